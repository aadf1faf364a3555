import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { Dashboard } from "../../entities/dashboard.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { CreateDashboardInput, UpdateDashboardInput, WidgetLayoutInput } from "./dashboard.inputs.js";

/** The widgets of many dashboards in one query, each list in layout order. */
export function widgetsOfDashboard(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Widget[]>(ctx, "widgetsByDashboard", async (ids) => {
    const found = await ctx.services.widgets.byDashboards(owner, ids);
    return ids.map((id) => found.get(id) ?? []);
  });
}

/** Dashboards by id, only the caller's: anything else loads as null. */
function dashboardLoader(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Dashboard | null>(ctx, "dashboard", async (ids) => {
    const found = await ctx.services.dashboards.findOwned(owner, ids);
    return ids.map((id) => found.get(id.toLowerCase()) ?? null);
  });
}

@Resolver(() => Dashboard)
export class DashboardResolver {
  @Authorized()
  @Query(() => [Dashboard])
  dashboards(@Ctx() ctx: GqlContext): Promise<Dashboard[]> {
    return ctx.services.dashboards.list(userIdOf(ctx));
  }

  @Authorized()
  @Query(() => Dashboard, { nullable: true, description: "null when missing or not the caller's" })
  dashboard(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Dashboard | null> {
    return dashboardLoader(ctx).load(id);
  }

  @Authorized()
  @Mutation(() => Dashboard)
  createDashboard(@Arg("input", () => CreateDashboardInput) input: CreateDashboardInput, @Ctx() ctx: GqlContext): Promise<Dashboard> {
    return ctx.services.dashboards.create(userIdOf(ctx), input);
  }

  @Authorized()
  @Mutation(() => Dashboard)
  updateDashboard(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateDashboardInput) input: UpdateDashboardInput,
    @Ctx() ctx: GqlContext,
  ): Promise<Dashboard> {
    return ctx.services.dashboards.update(userIdOf(ctx), id, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Deletes the dashboard with its widgets and their schedules" })
  deleteDashboard(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.dashboards.delete(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Dashboard, { description: "The array's order becomes the order; widgets not listed follow in their previous order" })
  async updateDashboardLayout(
    @Arg("id", () => ID) id: string,
    @Arg("layout", () => [WidgetLayoutInput]) layout: WidgetLayoutInput[],
    @Ctx() ctx: GqlContext,
  ): Promise<Dashboard> {
    const dashboard = await ctx.services.dashboards.setLayout(userIdOf(ctx), id, layout);
    widgetsOfDashboard(ctx).clear(dashboard.id);
    return dashboard;
  }

  @FieldResolver(() => [Widget], { description: "in layout order" })
  widgets(@Root() dashboard: Dashboard, @Ctx() ctx: GqlContext): Promise<Widget[]> {
    return widgetsOfDashboard(ctx).load(dashboard.id);
  }

  @FieldResolver(() => Int)
  async widgetCount(@Root() dashboard: Dashboard, @Ctx() ctx: GqlContext): Promise<number> {
    return (await widgetsOfDashboard(ctx).load(dashboard.id)).length;
  }
}
