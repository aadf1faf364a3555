import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import { Firmware } from "../../entities/firmware.entity.js";
import { Release, ReleaseCounts, ReleaseDevice } from "../../entities/release.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { deviceLoader } from "../devices/device.resolver.js";
import { CreateReleaseInput } from "./release.inputs.js";

/** A firmware's releases and the state of each of their devices. */
@Resolver(() => Release)
export class ReleaseResolver {
  @Authorized()
  @Query(() => [Release], { description: "the caller's releases, newest first" })
  releases(@Ctx() ctx: GqlContext): Promise<Release[]> {
    return ctx.services.releases.list(userIdOf(ctx));
  }

  @Authorized()
  @Query(() => Release)
  release(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Release> {
    return ctx.services.releases.requireOwned(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Release, { description: "Offers a firmware to devices in stages, stopping by itself when too many fail (docs/ota.md)" })
  createRelease(@Arg("input", () => CreateReleaseInput) input: CreateReleaseInput, @Ctx() ctx: GqlContext): Promise<Release> {
    return ctx.services.releases.create(userIdOf(ctx), input);
  }

  @Authorized()
  @Mutation(() => Release, { description: "No further offers; standing offers are withdrawn until resumeRelease" })
  pauseRelease(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Release> {
    return ctx.services.releases.pause(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Release)
  resumeRelease(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Release> {
    return ctx.services.releases.resume(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Release, { description: "Ends an active or paused release; standing offers are withdrawn" })
  cancelRelease(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Release> {
    return ctx.services.releases.cancel(userIdOf(ctx), id);
  }

  @FieldResolver(() => Firmware)
  async firmware(@Root() release: Release, @Ctx() ctx: GqlContext): Promise<Firmware> {
    const loader = loaderOf<string, Firmware>(ctx, "firmware", async (ids) => {
      const found = await ctx.services.firmwares.getMany(ids);
      return ids.map((id) => (found.get(id) as Firmware | undefined) ?? new Error(`firmware ${id} not found`));
    });
    return loader.load(release.firmwareId);
  }

  @FieldResolver(() => ReleaseCounts)
  counts(@Root() release: Release, @Ctx() ctx: GqlContext): Promise<ReleaseCounts> {
    const loader = loaderOf<string, ReleaseCounts>(ctx, "releaseCounts", async (ids) => {
      const found = await ctx.services.releases.countsOf(ids);
      return ids.map((id) => found.get(id)!);
    });
    return loader.load(release.id);
  }

  @FieldResolver(() => [ReleaseDevice], { description: "in rollout order; `after` is the last device id of the previous page" })
  devices(
    @Root() release: Release,
    @Arg("first", () => Int, { defaultValue: 100 }) first: number,
    @Arg("after", () => ID, { nullable: true }) after: string | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<ReleaseDevice[]> {
    return ctx.services.releases.devices(release.id, first, after);
  }
}

@Resolver(() => ReleaseDevice)
export class ReleaseDeviceResolver {
  @FieldResolver(() => Device, { nullable: true, description: "null once the device is deleted" })
  device(@Root() row: ReleaseDevice, @Ctx() ctx: GqlContext): Promise<Device | null> {
    return deviceLoader(ctx).load(row.deviceId);
  }
}
