import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";
import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar, JSONObjectScalar } from "../schema/scalars.js";
import type { JsonValue } from "./device-state.entity.js";

/** Something the app shows a user (device offline, schedule executed, ...). Never updated but for read_at. */
@ObjectType()
@Entity({ name: "notifications" })
export class Notification {
  @Field(() => ID)
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ type: "uuid", name: "user_id" })
  ownerId: string;

  @Field(() => String, { description: "What happened, e.g. device_offline or schedule_executed" })
  @Column({ type: "text" })
  type: string;

  @Field(() => String)
  @Column({ type: "text" })
  title: string;

  @Field(() => String)
  @Column({ type: "text" })
  message: string;

  @Field(() => JSONObjectScalar, { description: "Details for the app, e.g. { deviceId }" })
  @Column({ type: "jsonb", default: () => "'{}'" })
  data: Record<string, JsonValue>;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ type: "timestamptz", name: "read_at", nullable: true })
  readAt: Date | null;

  @Field(() => DateTimeScalar)
  @CreateDateColumn({ type: "timestamptz", name: "created_at" })
  createdAt: Date;

  @Field(() => Boolean)
  get read(): boolean {
    return this.readAt !== null;
  }
}
