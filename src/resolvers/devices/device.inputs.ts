import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import type { JsonValue } from "../../platform/json.js";
import { DateTimeScalar, JSONObjectScalar } from "../../schema/scalars.js";

@InputType()
export class CreateDeviceInput {
  @Field(() => String)
  name: string;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => String, { nullable: true })
  location?: string | null;
}

@InputType()
export class UpdateDeviceInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => String, { nullable: true })
  location?: string | null;
}

@ObjectType({ description: "The only time a device token is shown: store it in the device." })
export class DeviceWithToken {
  @Field(() => Device)
  device: Device;

  @Field(() => String)
  token: string;
}

@ObjectType({ description: "reported: what the device said; desired: commands not yet confirmed; merged: what the device should hold" })
export class DeviceState {
  @Field(() => ID)
  deviceId: string;

  @Field(() => JSONObjectScalar)
  reported: Record<string, JsonValue>;

  @Field(() => JSONObjectScalar)
  desired: Record<string, JsonValue>;

  @Field(() => JSONObjectScalar)
  merged: Record<string, JsonValue>;

  @Field(() => DateTimeScalar, { nullable: true })
  reportedAt: Date | null;

  @Field(() => Int)
  version: number;

  @Field(() => [String], { description: "keys the device confirmed in the change that led here (subscriptions); empty in queries" })
  confirmed: string[];

  @Field(() => [String], { description: "keys whose command the device overrode with its own change (subscriptions); empty in queries" })
  overridden: string[];
}
