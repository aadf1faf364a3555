import { Column, Entity, OneToMany } from "typeorm";
import { BaseEntity } from "./base.entity.js";
import type { Device } from "./device.entity.js";

@Entity({ name: "users" })
export class User extends BaseEntity {
  @Column({ type: "text" })
  email: string;

  @Column({ type: "text" })
  username: string;

  /** argon2id hash; null for accounts that cannot log in with a password. Never exposed. */
  @Column({ type: "text", name: "password_hash", nullable: true })
  passwordHash: string | null;

  @Column({ type: "text", name: "full_name", nullable: true })
  fullName: string | null;

  @Column({ type: "text", default: "user" })
  role: string;

  @OneToMany("Device", (device: Device) => device.owner)
  devices: Device[];
}
