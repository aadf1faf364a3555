import { Field, ID, Int, ObjectType } from "type-graphql";
import type { JsonValue } from "../../platform/json.js";
import { DateTimeScalar, JSONObjectScalar } from "../../schema/scalars.js";

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
