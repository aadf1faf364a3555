import { Field, ID, ObjectType } from "type-graphql";
import { DeviceStatus } from "../../entities/device.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import type { JsonValue } from "../../platform/json.js";
import { DateTimeScalar, JSONObjectScalar } from "../../schema/scalars.js";

@ObjectType()
export class TelemetryEvent {
  @Field(() => ID)
  deviceId: string;

  @Field(() => JSONObjectScalar, { description: "the keys of this report, as the device sent them" })
  data: Record<string, JsonValue>;

  @Field(() => DateTimeScalar)
  timestamp: Date;
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

@ObjectType()
export class WidgetEvent {
  @Field(() => ID)
  dashboardId: string;

  @Field(() => Widget, { description: "the widget after the change; for a deletion, as it was" })
  widget: Widget;

  @Field(() => Boolean)
  deleted: boolean;
}
