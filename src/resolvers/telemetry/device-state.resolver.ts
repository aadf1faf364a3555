import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import type { JsonValue } from "../../platform/json.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { RateLimited } from "../../schema/rate-limit.js";
import { JSONObjectScalar } from "../../schema/scalars.js";
import { desiredValuesOf, mergedOf, type DeviceStateData } from "../../services/telemetry/device-state.model.js";
import { DeviceState } from "./device-state.inputs.js";

/** States are immutable, so their API shape is built once per state, however many widgets show it. */
const shapes = new WeakMap<DeviceStateData, DeviceState>();

export function toDeviceState(state: DeviceStateData): DeviceState {
  let shape = shapes.get(state);
  if (!shape) shapes.set(state, (shape = shapeOf(state)));
  return shape;
}

function shapeOf(state: DeviceStateData): DeviceState {
  return {
    deviceId: state.deviceId,
    reported: { ...state.reported },
    desired: desiredValuesOf(state),
    merged: mergedOf(state),
    reportedAt: state.reportedAt === null ? null : new Date(state.reportedAt),
    version: state.version,
    confirmed: [],
    overridden: [],
  };
}

/** Latest state of many devices in one go (memory first, one query for the rest). */
export function stateLoader(ctx: GqlContext) {
  return loaderOf<string, DeviceStateData>(ctx, "deviceState", async (ids) => {
    const found = await ctx.services.state.getMany(ids);
    return ids.map((id) => found.get(id) ?? new Error(`state of device ${id} not found`));
  });
}

const perUser = (_args: Record<string, unknown>, ctx: GqlContext) => `user:${userIdOf(ctx)}`;

/** A device's reported/desired/merged state, and the commands that change it. */
@Resolver(() => Device)
export class DeviceStateResolver {
  @Authorized()
  @Mutation(() => DeviceState, { description: "Commands for any keys: desired values the device picks up on its next poll" })
  @RateLimited({ max: 120, windowSeconds: 60, by: perUser })
  async setDeviceState(
    @Arg("deviceId", () => ID) deviceId: string,
    @Arg("desired", () => JSONObjectScalar) desired: Record<string, JsonValue>,
    @Ctx() ctx: GqlContext,
  ): Promise<DeviceState> {
    const [state] = await ctx.services.control.setDevicesState(userIdOf(ctx), [deviceId], desired);
    return toDeviceState(state!);
  }

  @Authorized()
  @Mutation(() => [DeviceState], { description: "The same command for several devices; one id that is not the caller's fails the whole call" })
  @RateLimited({ max: 120, windowSeconds: 60, by: perUser })
  async setDevicesState(
    @Arg("deviceIds", () => [ID]) deviceIds: string[],
    @Arg("desired", () => JSONObjectScalar) desired: Record<string, JsonValue>,
    @Ctx() ctx: GqlContext,
  ): Promise<DeviceState[]> {
    return (await ctx.services.control.setDevicesState(userIdOf(ctx), deviceIds, desired)).map(toDeviceState);
  }

  @FieldResolver(() => DeviceState)
  async state(@Root() device: Device, @Ctx() ctx: GqlContext): Promise<DeviceState> {
    return toDeviceState(await stateLoader(ctx).load(device.id));
  }
}
