import { Arg, Authorized, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { FirmwareUpdateEvent, ReleaseDeviceState, ReleaseStatus } from "../../entities/release.entity.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import { liveStream } from "../../platform/live.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";

/** The release's events: its owner's stream of the topic, filtered to this release (platform/live.ts). */
function releaseStream(bus: EventBus, ownerId: string, releaseId: string): AsyncIterableIterator<FirmwareUpdateEvent> {
  return liveStream(bus, Topic.FirmwareUpdateChanged, {
    audience: ownerId,
    filter: (p) => p.releaseId === releaseId,
    map: (p) => ({
      releaseId: p.releaseId,
      deviceId: p.deviceId,
      state: p.state as ReleaseDeviceState | null,
      error: p.error,
      releaseStatus: p.releaseStatus as ReleaseStatus,
      at: new Date(p.at),
    }),
  });
}

@Resolver()
export class ReleaseEventsResolver {
  @Authorized()
  @Subscription(() => FirmwareUpdateEvent, {
    description: "Each device's move through the release, and the release's own status changes",
    // Another user's release fails at subscribe time (NOT_FOUND), it never just stays silent.
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, { releaseId: string }, GqlContext>) => {
      const release = await context.services.releases.requireOwned(userIdOf(context), args.releaseId);
      return releaseStream(context.services.bus, release.ownerId, release.id);
    },
  })
  firmwareUpdateChanged(@Root() event: FirmwareUpdateEvent, @Arg("releaseId", () => ID) _releaseId: string): FirmwareUpdateEvent {
    return event;
  }
}
