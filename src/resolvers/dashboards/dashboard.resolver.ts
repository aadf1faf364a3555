import type { GraphQLResolveInfo } from "graphql";
import { Arg, Authorized, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { Dashboard } from "../../entities/dashboard.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { asks, forgetWidgets, settleTree, widgetsOf } from "./dashboard-tree.js";
import { CreateDashboardInput, UpdateDashboardInput, WidgetLayoutInput } from "./dashboard.inputs.js";

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
  async dashboards(@Ctx() ctx: GqlContext, @Info() info: GraphQLResolveInfo): Promise<Dashboard[]> {
    const owner = userIdOf(ctx);
    if (!asks(info, "widgets") && !asks(info, "widgetCount")) return ctx.services.dashboards.list(owner);
    const tree = await ctx.services.dashboards.tree(owner);
    await settleTree(ctx, info, tree);
    return tree.dashboards;
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
    forgetWidgets(ctx, dashboard.id);
    return dashboard;
  }

  @FieldResolver(() => [Widget], { description: "in layout order" })
  widgets(@Root() dashboard: Dashboard, @Ctx() ctx: GqlContext): Widget[] | Promise<Widget[]> {
    return widgetsOf(ctx, dashboard.id);
  }

  @FieldResolver(() => Int)
  widgetCount(@Root() dashboard: Dashboard, @Ctx() ctx: GqlContext): number | Promise<number> {
    const widgets = widgetsOf(ctx, dashboard.id);
    return widgets instanceof Promise ? widgets.then((list) => list.length) : widgets.length;
  }
}
