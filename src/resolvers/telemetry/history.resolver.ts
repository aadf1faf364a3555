import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { DateTimeScalar } from "../../schema/scalars.js";
import { badInput } from "../../platform/errors.js";
import { Aggregate, TelemetryKey, TelemetryPoint } from "./history.inputs.js";

@Resolver(() => TelemetryPoint)
export class HistoryResolver {
  @Authorized()
  @Query(() => [TelemetryPoint], {
    description:
      "Key K of a device in [from, to) (default: the last 24 h), oldest first. Without bucket: raw points, the newest `first` (at most 10000). " +
      "With bucket (30s, 1m, 15m, 1h, 1d, 1w, ...): numeric statistics per bucket, value = aggregate (default AVG); " +
      "buckets of whole days and weeks start at midnight in timeZone (default: the user's timeZone, else UTC), weeks on Mondays.",
    // One indexed range scan capped by the service (10000 rows), whatever `first` says; the default
    // cost rule (first x fields) would refuse ordinary chart sizes.
    complexity: 50,
  })
  async telemetryHistory(
    @Arg("deviceId", () => ID) deviceId: string,
    @Arg("key", () => String) key: string,
    @Arg("from", () => DateTimeScalar, { nullable: true }) from: Date | null | undefined,
    @Arg("to", () => DateTimeScalar, { nullable: true }) to: Date | null | undefined,
    @Arg("bucket", () => String, { nullable: true }) bucket: string | null | undefined,
    @Arg("aggregate", () => Aggregate, { nullable: true }) aggregate: Aggregate | null | undefined,
    @Arg("first", () => Int, { nullable: true }) first: number | null | undefined,
    @Arg("timeZone", () => String, { nullable: true, description: "IANA name such as Europe/Berlin" }) timeZone: string | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<TelemetryPoint[]> {
    // Ownership first: another user's device must not reveal whether the other arguments were right.
    const device = await ctx.services.devices.requireOwned(userIdOf(ctx), deviceId);
    const q = { deviceId: device.id, key, from: from ?? undefined, to: to ?? undefined, limit: first ?? undefined };
    if (bucket == null) {
      if (aggregate != null) throw badInput("aggregate needs a bucket, such as 1m or 1h");
      return (await ctx.services.history.raw(q)).map((p) => ({ ts: new Date(p.ts), value: p.value, min: null, max: null, avg: null, sum: null, count: null }));
    }
    const pick = aggregate ?? Aggregate.AVG;
    const zone = timeZone ?? (await ctx.services.auth.me(userIdOf(ctx))).timeZone ?? "UTC";
    return (await ctx.services.history.bucketed({ ...q, bucket, timeZone: zone })).map((p) => ({ ...p, ts: new Date(p.ts), value: p[pick] }));
  }

  @Authorized()
  @Query(() => [TelemetryKey], { description: "Every key the device has reported, by name, with its latest value, time and point count" })
  async telemetryKeys(@Arg("deviceId", () => ID) deviceId: string, @Ctx() ctx: GqlContext): Promise<TelemetryKey[]> {
    const device = await ctx.services.devices.requireOwned(userIdOf(ctx), deviceId);
    const [state, counts] = await Promise.all([ctx.services.state.get(device.id), ctx.services.history.pointCounts(device.id)]);
    const keys = [...new Set([...Object.keys(state.reported), ...counts.keys()])].sort();
    return keys.map((key) => {
      const reported = Object.hasOwn(state.reported, key);
      const ts = reported ? state.reportedTs[key] : undefined;
      return { key, value: reported ? state.reported[key]! : null, ts: ts === undefined ? null : new Date(ts), count: counts.get(key) ?? 0 };
    });
  }
}
