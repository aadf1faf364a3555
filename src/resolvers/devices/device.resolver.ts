import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import type { JsonValue } from "../../platform/json.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { RateLimited } from "../../schema/rate-limit.js";
import { JSONObjectScalar } from "../../schema/scalars.js";
import { desiredValuesOf, mergedOf, type DeviceStateData } from "../../services/telemetry/device-state.model.js";
import { CreateDeviceInput, DeviceState, DeviceWithToken, UpdateDeviceInput } from "./device.inputs.js";

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

/** Devices by id, only the caller's: another user's id loads as null. */
export function deviceLoader(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Device | null>(ctx, "device", async (ids) => {
    const found = await ctx.services.devices.findOwned(owner, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
}

const perUser = (_args: Record<string, unknown>, ctx: GqlContext) => `user:${userIdOf(ctx)}`;

@Resolver(() => Device)
export class DeviceResolver {
  @Authorized()
  @Query(() => [Device])
  devices(@Ctx() ctx: GqlContext): Promise<Device[]> {
    return ctx.services.devices.list(userIdOf(ctx));
  }

  @Authorized()
  @Query(() => Device, { nullable: true, description: "null when missing or not the caller's" })
  device(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Device | null> {
    return deviceLoader(ctx).load(id);
  }

  @Authorized()
  @Mutation(() => DeviceWithToken)
  async createDevice(@Arg("input", () => CreateDeviceInput) input: CreateDeviceInput, @Ctx() ctx: GqlContext): Promise<DeviceWithToken> {
    const owner = userIdOf(ctx);
    const { id, token } = await ctx.services.devices.create(owner, input);
    return { device: (await ctx.services.devices.getOwned(owner, id))!, token };
  }

  @Authorized()
  @Mutation(() => Device)
  updateDevice(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateDeviceInput) input: UpdateDeviceInput,
    @Ctx() ctx: GqlContext,
  ): Promise<Device> {
    return ctx.services.devices.update(userIdOf(ctx), id, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Deletes the device with its state, history and bound widgets" })
  deleteDevice(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.devices.deleteOwned(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => DeviceWithToken, { description: "A new token; the old one stops working at once" })
  async rotateDeviceToken(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<DeviceWithToken> {
    const owner = userIdOf(ctx);
    const token = await ctx.services.devices.rotateOwned(owner, id);
    return { device: (await ctx.services.devices.getOwned(owner, id))!, token };
  }

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
