import { Field, Float, Int, ObjectType, registerEnumType } from "type-graphql";
import type { JsonValue } from "../../platform/json.js";
import { DateTimeScalar, JSONScalar } from "../../schema/scalars.js";

/** Values are the BucketPoint fields they pick. */
export enum Aggregate {
  AVG = "avg",
  MIN = "min",
  MAX = "max",
  COUNT = "count",
  SUM = "sum",
}
registerEnumType(Aggregate, { name: "Aggregate", description: "Which bucket statistic becomes a point's value" });

@ObjectType({ description: "A raw point (value only) or a bucket (min/max/avg/count, value = the chosen aggregate)" })
export class TelemetryPoint {
  @Field(() => DateTimeScalar, { description: "Receive time of a raw point; start of a bucket" })
  ts: Date;

  @Field(() => JSONScalar, { nullable: true })
  value: JsonValue;

  @Field(() => Float, { nullable: true })
  min: number | null;

  @Field(() => Float, { nullable: true })
  max: number | null;

  @Field(() => Float, { nullable: true })
  avg: number | null;

  @Field(() => Float, { nullable: true })
  sum: number | null;

  @Field(() => Int, { nullable: true })
  count: number | null;
}

@ObjectType({ description: "A key a device has reported, with its current value and how many points history holds of it" })
export class TelemetryKey {
  @Field(() => String)
  key: string;

  @Field(() => JSONScalar, { nullable: true, description: "The reported value (the newest by the device's time); null when none is reported now" })
  value: JsonValue;

  @Field(() => DateTimeScalar, { nullable: true, description: "Time of that value" })
  ts: Date | null;

  @Field(() => Float, { description: "Points recorded (from the hourly rollups, which outlive raw points)" })
  count: number;
}
