import { Field, ID, InputType, Int } from "type-graphql";
import { JSONObjectScalar } from "../../schema/scalars.js";

@InputType()
export class CreateDashboardInput {
  @Field(() => String)
  name: string;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class UpdateDashboardInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "null or blank clears it" })
  description?: string | null;
}

@InputType({ description: "One widget's slot: the array's order is the dashboard's order" })
export class WidgetLayoutInput {
  @Field(() => ID)
  widgetId: string;

  @Field(() => Int, { nullable: true })
  width?: number | null;

  @Field(() => Int, { nullable: true })
  height?: number | null;
}

@InputType()
export class CreateWidgetInput {
  @Field(() => ID)
  dashboardId: string;

  @Field(() => String, { description: "card, gauge, indicator, chart, digital, thermometer, tank, battery, status, energy, led, connectivity" })
  type: string;

  @Field(() => String)
  label: string;

  @Field(() => ID, { nullable: true, description: "required for led; display widgets without one show nothing" })
  deviceId?: string | null;

  @Field(() => String, { nullable: true, description: "display widgets bound to a device: the reported key to show" })
  key?: string | null;

  @Field(() => String, { nullable: true, description: "led only: v0, v1, ...; default: the device's lowest free pin" })
  virtualPin?: string | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  config?: Record<string, unknown> | null;

  @Field(() => Int, { nullable: true, description: "1 to 12, default 4" })
  width?: number | null;

  @Field(() => Int, { nullable: true, description: "1 to 12, default 2" })
  height?: number | null;
}

@InputType()
export class UpdateWidgetInput {
  @Field(() => String, { nullable: true })
  label?: string | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  config?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  key?: string | null;

  @Field(() => Int, { nullable: true })
  width?: number | null;

  @Field(() => Int, { nullable: true })
  height?: number | null;
}
