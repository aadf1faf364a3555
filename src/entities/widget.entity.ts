import { Column, Entity } from "typeorm";
import { Field, ID, Int, ObjectType } from "type-graphql";
import { JSONObjectScalar } from "../schema/scalars.js";
import { BaseEntity } from "./base.entity.js";
import type { JsonValue } from "./device-state.entity.js";

/**
 * One tile of a dashboard. Output widgets (a switch) are bound to a device's virtual pin; the others
 * show the device's reported value of `key`. value, pending, device and nextSchedule are resolved
 * from the device state, never stored here, so telemetry needs no write to widgets.
 */
@ObjectType()
@Entity({ name: "widgets" })
export class Widget extends BaseEntity {
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Field(() => ID)
  @Column({ type: "uuid", name: "dashboard_id" })
  dashboardId: string;

  @Field(() => ID, { nullable: true })
  @Column({ type: "uuid", name: "device_id", nullable: true })
  deviceId: string | null;

  @Field(() => String)
  @Column({ type: "text" })
  type: string;

  @Field(() => String)
  @Column({ type: "text" })
  label: string;

  @Field(() => String, { nullable: true, description: "output widgets only: v0, v1, ..." })
  @Column({ type: "text", name: "virtual_pin", nullable: true })
  virtualPin: string | null;

  @Field(() => String, { nullable: true, description: "the reported key a display widget shows" })
  @Column({ type: "text", nullable: true })
  key: string | null;

  @Field(() => JSONObjectScalar)
  @Column({ type: "jsonb", default: () => "'{}'" })
  config: Record<string, JsonValue>;

  /** "order" is an SQL keyword: the column is `position`. */
  @Field(() => Int, { description: "place in the dashboard, from 0" })
  @Column({ type: "integer", name: "position" })
  order: number;

  @Field(() => Int)
  @Column({ type: "integer" })
  width: number;

  @Field(() => Int)
  @Column({ type: "integer" })
  height: number;
}
