import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { JsonValue } from "../../platform/json.js";
import { Schedule } from "../../entities/schedule.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { DateTimeScalar, JSONScalar } from "../../schema/scalars.js";

@Resolver(() => Schedule)
export class ScheduleResolver {
  @Authorized()
  @Query(() => [Schedule], { description: "every schedule and timer of the widget, soonest first" })
  schedules(@Arg("widgetId", () => ID) widgetId: string, @Ctx() ctx: GqlContext): Promise<Schedule[]> {
    return ctx.services.schedules.list(userIdOf(ctx), widgetId);
  }

  @Authorized()
  @Mutation(() => Schedule, { description: "Sets an output widget to state at executeAt (in the future, within a year)" })
  createSchedule(
    @Arg("widgetId", () => ID) widgetId: string,
    @Arg("state", () => JSONScalar) state: JsonValue,
    @Arg("executeAt", () => DateTimeScalar) executeAt: Date,
    @Arg("label", () => String, { nullable: true }) label: string | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<Schedule> {
    return ctx.services.schedules.createAt(userIdOf(ctx), widgetId, state, executeAt, label);
  }

  @Authorized()
  @Mutation(() => Schedule, { description: "Sets an output widget to state after durationSeconds (1 to 86400)" })
  createTimer(
    @Arg("widgetId", () => ID) widgetId: string,
    @Arg("state", () => JSONScalar) state: JsonValue,
    @Arg("durationSeconds", () => Int) durationSeconds: number,
    @Arg("label", () => String, { nullable: true }) label: string | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<Schedule> {
    return ctx.services.schedules.createTimer(userIdOf(ctx), widgetId, state, durationSeconds, label);
  }

  @Authorized()
  @Mutation(() => Schedule, { description: "Only a PENDING schedule can be cancelled (otherwise CONFLICT)" })
  cancelSchedule(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Schedule> {
    return ctx.services.schedules.cancel(userIdOf(ctx), id);
  }
}
