import { Args, Authorized, Field, ID, ObjectType, Resolver, Root, Subscription } from "type-graphql";
import { Topic } from "../../platform/event-bus.js";
import type { JsonValue } from "../../platform/json.js";
import { DateTimeScalar, JSONObjectScalar } from "../../schema/scalars.js";
import { deviceEvents, DeviceFilterArgs, type DeviceEventData } from "../devices/device-events.resolver.js";
import { DeviceState } from "./device-state.inputs.js";

@ObjectType()
export class TelemetryEvent {
  @Field(() => ID)
  deviceId: string;

  @Field(() => JSONObjectScalar, { description: "the keys of this report, as the device sent them" })
  data: Record<string, JsonValue>;

  @Field(() => DateTimeScalar)
  timestamp: Date;
}

@Resolver()
export class TelemetryEventsResolver {
  @Authorized()
  @Subscription(() => TelemetryEvent, {
    description: "Reports of the caller's devices (or of one), as they are stored",
    subscribe: (data: DeviceEventData) =>
      deviceEvents(data, Topic.TelemetryReported, (p): TelemetryEvent => ({ deviceId: p.deviceId, data: p.data, timestamp: new Date(p.timestamp) })),
  })
  telemetryUpdated(@Root() event: TelemetryEvent, @Args(() => DeviceFilterArgs) _args: DeviceFilterArgs): TelemetryEvent {
    return event;
  }

  @Authorized()
  @Subscription(() => DeviceState, {
    description: "The state after every change: reports, commands, confirmations (see confirmed/overridden)",
    subscribe: (data: DeviceEventData) =>
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
