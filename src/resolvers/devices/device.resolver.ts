import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { Device, DeviceStatus } from "../../entities/device.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { CreateDeviceInput, DeviceConnection, DeviceTransport, DeviceWithToken, UpdateDeviceInput } from "./device.inputs.js";

/** Devices by id, only the caller's: another user's id loads as null. */
export function deviceLoader(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Device | null>(ctx, "device", async (ids) => {
    const found = await ctx.services.devices.findOwned(owner, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
}

@Resolver(() => Device)
export class DeviceResolver {
  @FieldResolver(() => DeviceConnection)
  connection(@Root() device: Device): DeviceConnection {
    const connected = device.status === DeviceStatus.ONLINE;
    return {
      transport: device.transport === "mqtt" ? DeviceTransport.MQTT : DeviceTransport.HTTP,
      connected,
      since: connected ? device.connectedSince : null,
    };
  }

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
  updateDevice(@Arg("id", () => ID) id: string, @Arg("input", () => UpdateDeviceInput) input: UpdateDeviceInput, @Ctx() ctx: GqlContext): Promise<Device> {
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
}
