import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import type { GqlContext } from "../../schema/context.js";
import { stateLoader } from "../telemetry/device-state.resolver.js";

/** Which version each board runs: its latest `fw_version` report (batched with the device states). */
@Resolver(() => Device)
export class FirmwareVersionResolver {
  @FieldResolver(() => String, { nullable: true, description: "the fw_version the device last reported; null if it never did" })
  async firmwareVersion(@Root() device: Device, @Ctx() ctx: GqlContext): Promise<string | null> {
    const version = (await stateLoader(ctx).load(device.id)).reported.fw_version;
    return typeof version === "string" ? version : null;
  }
}
