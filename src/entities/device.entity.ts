import { Column, Entity, Index } from "typeorm";
import { Field, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar } from "../schema/scalars.js";
import { BaseEntity } from "./base.entity.js";

export enum DeviceStatus {
  ONLINE = "online",
  OFFLINE = "offline",
}
registerEnumType(DeviceStatus, { name: "DeviceStatus" });

@ObjectType()
@Entity({ name: "devices" })
export class Device extends BaseEntity {
  @Index()
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Field(() => String)
  @Column({ type: "text" })
  name: string;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  type: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  location: string | null;

  /** SHA-256 of the device token (hex). The token itself is shown once and never stored. */
  @Index({ unique: true })
  @Column({ type: "text", name: "token_hash" })
  tokenHash: string;

  @Field(() => DeviceStatus)
  @Column({ type: "text", default: DeviceStatus.OFFLINE })
  status: DeviceStatus;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ type: "timestamptz", name: "last_seen_at", nullable: true })
  lastSeenAt: Date | null;

  /** Transport of the last contact (Device.connection shows it). */
  @Column({ type: "text", default: "http" })
  transport: "http" | "mqtt";

  /** Start of the current online period (or of the held MQTT session); null while offline. */
  @Column({ type: "timestamptz", name: "connected_since", nullable: true })
  connectedSince: Date | null;

  /** The MQTT session holding the device; null for HTTP devices. */
  @Column({ type: "uuid", name: "connection_id", nullable: true })
  connectionId: string | null;
}
