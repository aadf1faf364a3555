import { Args, ArgsType, Authorized, Field, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { DeviceStatus } from "../../entities/device.entity.js";
import { Notification } from "../../entities/notification.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { Topic, type Payloads } from "../../platform/event-bus.js";
import { liveStream } from "../../platform/live.js";
import { DeviceState } from "../devices/device.inputs.js";
import { DeviceStatusEvent, TelemetryEvent, WidgetEvent } from "./subscription.inputs.js";
import { widgetEvents } from "../dashboards/widget-events.js";

@ArgsType()
export class DeviceFilterArgs {
  @Field(() => ID, { nullable: true, description: "one of the caller's devices; all of them when omitted" })
  deviceId?: string | null;
}

type Data = SubscribeResolverData<unknown, DeviceFilterArgs, GqlContext>;

/**
 * Events of the caller's devices only. A deviceId that is not the caller's fails at subscribe time
 * (NOT_FOUND), it never just stays silent. Payloads carry everything the fields need, so delivering
 * one event to N subscribers costs no query.
 */
async function deviceEvents<T extends Topic.TelemetryReported | Topic.DeviceStatusChanged | Topic.DeviceStateChanged, R>(
  { args, context }: Data,
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

@ArgsType()
export class DashboardFilterArgs {
  @Field(() => ID, { nullable: true, description: "one of the caller's dashboards; all of them when omitted" })
  dashboardId?: string | null;
}

@Resolver()
export class SubscriptionResolver {
  @Authorized()
  @Subscription(() => WidgetEvent, {
    description: "Widgets created, changed, moved or deleted, and value/pending changes from their device",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, DashboardFilterArgs, GqlContext>) => widgetEvents(context, args.dashboardId),
  })
  widgetUpdated(@Root() event: WidgetEvent, @Args(() => DashboardFilterArgs) _args: DashboardFilterArgs): WidgetEvent {
    return event;
  }

  @Authorized()
  @Subscription(() => Notification, {
    description: "Notifications of the caller as they are stored",
    subscribe: ({ context }: Data) => {
      const userId = userIdOf(context);
      return liveStream(context.services.bus, Topic.NotificationAdded, {
        audience: userId,
        filter: (p) => p.userId === userId,
        map: (p) => Object.assign(new Notification(), { ...p.notification, userId, readAt: null, createdAt: new Date(p.notification.createdAt) }),
      });
    },
  })
  notificationAdded(@Root() notification: Notification): Notification {
    return notification;
  }

  @Authorized()
  @Subscription(() => TelemetryEvent, {
    description: "Reports of the caller's devices (or of one), as they are stored",
    subscribe: (data: Data) =>
      deviceEvents(data, Topic.TelemetryReported, (p): TelemetryEvent => ({ deviceId: p.deviceId, data: p.data, timestamp: new Date(p.timestamp) })),
  })
  telemetryUpdated(@Root() event: TelemetryEvent, @Args(() => DeviceFilterArgs) _args: DeviceFilterArgs): TelemetryEvent {
    return event;
  }

  @Authorized()
  @Subscription(() => DeviceStatusEvent, {
    description: "ONLINE/OFFLINE transitions of the caller's devices",
    subscribe: (data: Data) =>
      deviceEvents(data, Topic.DeviceStatusChanged, (p): DeviceStatusEvent => ({
        deviceId: p.deviceId,
        status: p.status === "online" ? DeviceStatus.ONLINE : DeviceStatus.OFFLINE,
        timestamp: new Date(p.timestamp),
      })),
  })
  deviceStatusChanged(@Root() event: DeviceStatusEvent, @Args(() => DeviceFilterArgs) _args: DeviceFilterArgs): DeviceStatusEvent {
    return event;
  }

  @Authorized()
  @Subscription(() => DeviceState, {
    description: "The state after every change: reports, commands, confirmations (see confirmed/overridden)",
    subscribe: (data: Data) =>
      deviceEvents(data, Topic.DeviceStateChanged, (p): DeviceState => ({
        ...p.state,
        reportedAt: p.state.reportedAt === null ? null : new Date(p.state.reportedAt),
        confirmed: p.confirmed,
        overridden: p.overridden,
      })),
  })
  deviceStateChanged(@Root() state: DeviceState, @Args(() => DeviceFilterArgs) _args: DeviceFilterArgs): DeviceState {
    return state;
  }
}
