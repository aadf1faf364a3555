import { Args, ArgsType, Authorized, Field, ID, ObjectType, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { DeviceStatus } from "../../entities/device.entity.js";
import { Topic, type Payloads } from "../../platform/event-bus.js";
import { liveStream } from "../../platform/live.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { DateTimeScalar } from "../../schema/scalars.js";

@ArgsType()
export class DeviceFilterArgs {
  @Field(() => ID, { nullable: true, description: "one of the caller's devices; all of them when omitted" })
  deviceId?: string | null;
}

export type DeviceEventData = SubscribeResolverData<unknown, DeviceFilterArgs, GqlContext>;

/**
 * Events of the caller's devices only. A deviceId that is not the caller's fails at subscribe time
 * (NOT_FOUND), it never just stays silent. Payloads carry everything the fields need, so delivering
 * one event to N subscribers costs no query.
 */
export async function deviceEvents<T extends Topic.TelemetryReported | Topic.DeviceStatusChanged | Topic.DeviceStateChanged, R>(
  { args, context }: DeviceEventData,
  topic: T,
  map: (payload: Payloads[T]) => R,
): Promise<AsyncIterable<R>> {
  const owner = userIdOf(context);
  const deviceId = args.deviceId ? (await context.services.devices.requireOwned(owner, args.deviceId)).id : undefined;
  return liveStream(context.services.bus, topic, {
    audience: deviceId === undefined ? owner : `${owner}/${deviceId}`,
    filter: (p) => p.ownerId === owner && (deviceId === undefined || p.deviceId === deviceId),
    map,
  });
}

@ObjectType()
export class DeviceStatusEvent {
  @Field(() => ID)
  deviceId: string;

  @Field(() => DeviceStatus)
  status: DeviceStatus;

  @Field(() => DateTimeScalar)
  timestamp: Date;
}

@Resolver()
export class DeviceEventsResolver {
  @Authorized()
  @Subscription(() => DeviceStatusEvent, {
    description: "ONLINE/OFFLINE transitions of the caller's devices",
    subscribe: (data: DeviceEventData) =>
      deviceEvents(data, Topic.DeviceStatusChanged, (p): DeviceStatusEvent => ({
        deviceId: p.deviceId,
        status: p.status === "online" ? DeviceStatus.ONLINE : DeviceStatus.OFFLINE,
        timestamp: new Date(p.timestamp),
      })),
  })
  deviceStatusChanged(@Root() event: DeviceStatusEvent, @Args(() => DeviceFilterArgs) _args: DeviceFilterArgs): DeviceStatusEvent {
    return event;
  }
}
