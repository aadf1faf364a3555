import { Arg, Authorized, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { FirmwareUpdateEvent, ReleaseDeviceState, ReleaseStatus } from "../../entities/release.entity.js";
import { Topic, type EventBus, type Payloads } from "../../platform/event-bus.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";

const MAX_WAITING = 1000;

/** The release's events as an async iterator with a bounded buffer (a subscriber that falls behind fails). */
function releaseStream(bus: EventBus, releaseId: string): AsyncIterableIterator<FirmwareUpdateEvent> {
  const buffer: FirmwareUpdateEvent[] = [];
  let waiting: ((result: IteratorResult<FirmwareUpdateEvent>) => void) | undefined;
  let failed: Error | undefined;
  let done = false;
  const unsubscribe = bus.subscribe(Topic.FirmwareUpdateChanged, (p: Payloads[Topic.FirmwareUpdateChanged]) => {
    if (done || p.releaseId !== releaseId) return;
    const event: FirmwareUpdateEvent = {
      releaseId: p.releaseId,
      deviceId: p.deviceId,
      state: p.state as ReleaseDeviceState | null,
      error: p.error,
      releaseStatus: p.releaseStatus as ReleaseStatus,
      at: new Date(p.at),
    };
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: event, done: false });
    } else if (buffer.length < MAX_WAITING) buffer.push(event);
    else {
      failed = new Error(`subscriber too slow: more than ${MAX_WAITING} events waiting`);
      unsubscribe();
    }
  });
  const finish = (): Promise<IteratorResult<FirmwareUpdateEvent>> => {
    done = true;
    unsubscribe();
    buffer.length = 0;
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (failed) return Promise.reject(failed);
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
    throw(error) {
      void finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

@Resolver()
export class ReleaseEventsResolver {
  @Authorized()
  @Subscription(() => FirmwareUpdateEvent, {
    description: "Each device's move through the release, and the release's own status changes",
    // Another user's release fails at subscribe time (NOT_FOUND), it never just stays silent.
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, { releaseId: string }, GqlContext>) => {
      const release = await context.services.releases.requireOwned(userIdOf(context), args.releaseId);
      return releaseStream(context.services.bus, release.id);
    },
  })
  firmwareUpdateChanged(@Root() event: FirmwareUpdateEvent, @Arg("releaseId", () => ID) _releaseId: string): FirmwareUpdateEvent {
    return event;
  }
}
