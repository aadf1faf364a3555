import { Column, Entity } from "typeorm";
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar, JSONScalar } from "../schema/scalars.js";
import { BaseEntity } from "./base.entity.js";

export enum ScheduleKind {
  SCHEDULE = "SCHEDULE",
  TIMER = "TIMER",
}
registerEnumType(ScheduleKind, { name: "ScheduleKind", description: "SCHEDULE: at a given time; TIMER: after a duration" });

export enum ScheduleStatus {
  PENDING = "PENDING",
  EXECUTED = "EXECUTED",
  FAILED = "FAILED",
  CANCELLED = "CANCELLED",
}
registerEnumType(ScheduleStatus, { name: "ScheduleStatus" });

/** A state an output widget is to take at `executeAt`. Stored PENDING; an executor runs it later. */
@ObjectType()
@Entity({ name: "schedules" })
export class Schedule extends BaseEntity {
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Field(() => ID)
  @Column({ type: "uuid", name: "widget_id" })
  widgetId: string;

  @Field(() => ScheduleKind)
  @Column({ type: "text" })
  kind: ScheduleKind;

  /** JSON in the API and the table, so states other than a level can come later; today always 0 or 1. */
  @Field(() => JSONScalar, { description: "the normalized state: 0 or 1" })
  @Column({ type: "jsonb" })
  state: number;

  @Field(() => DateTimeScalar)
  @Column({ type: "timestamptz", name: "execute_at" })
  executeAt: Date;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  label: string | null;

  @Field(() => ScheduleStatus)
  @Column({ type: "text", default: ScheduleStatus.PENDING })
  status: ScheduleStatus;

  @Field(() => String, { nullable: true, description: "why it ended as it did (failure reason, cancellation)" })
  @Column({ type: "text", nullable: true })
  result: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ type: "timestamptz", name: "executed_at", nullable: true })
  executedAt: Date | null;
}
