import { Column, Entity, Index, JoinColumn, ManyToOne } from "typeorm";
import { BaseEntity } from "./base.entity.js";
import type { User } from "./user.entity.js";

export type DeviceStatus = "online" | "offline";

@Entity({ name: "devices" })
export class Device extends BaseEntity {
  @Index()
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @ManyToOne("User", (user: User) => user.devices, { onDelete: "CASCADE" })
  @JoinColumn({ name: "owner_id" })
  owner: User;

  @Column({ type: "text" })
  name: string;

  @Column({ type: "text", nullable: true })
  type: string | null;

  @Column({ type: "text", nullable: true })
  location: string | null;

  /** SHA-256 of the device token (hex). The token itself is shown once and never stored. */
  @Index({ unique: true })
  @Column({ type: "text", name: "token_hash" })
  tokenHash: string;

  @Column({ type: "text", default: "offline" })
  status: DeviceStatus;

  @Column({ type: "timestamptz", name: "last_seen_at", nullable: true })
  lastSeenAt: Date | null;
}
