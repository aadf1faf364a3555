import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { Firmware } from "../../entities/firmware.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";

/** The caller's firmware images (uploaded with POST /firmware). */
@Resolver(() => Firmware)
export class FirmwareResolver {
  @Authorized()
  @Query(() => [Firmware], { description: "the caller's firmware images, newest first" })
  firmwares(@Ctx() ctx: GqlContext): Promise<Firmware[]> {
    return ctx.services.firmwares.list(userIdOf(ctx)) as Promise<Firmware[]>;
  }

  @Authorized()
  @Query(() => Firmware)
  firmware(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Firmware> {
    return ctx.services.firmwares.requireOwned(userIdOf(ctx), id) as Promise<Firmware>;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "CONFLICT while an active or paused release uses it; releases of it that ended are deleted with it" })
  deleteFirmware(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.firmwares.delete(userIdOf(ctx), id);
  }
}
