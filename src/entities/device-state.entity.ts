import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from "typeorm";
import type { JsonValue } from "../platform/json.js";
import type { Device } from "./device.entity.js";

export type { JsonValue };

/** A command the device has not confirmed yet. */
export interface DesiredEntry {
  value: JsonValue;
  /** The device-state version at which the command was given. */
  version: number;
  setAt: number; // epoch ms
  /** When the device first received the merged state carrying this command; null until then. */
  deliveredAt: number | null; // epoch ms
}

/**
 * Latest state of one device (see DESIGN.md, "reported / desired / merged"). One row per device; the
 * row is also the lock that orders a device's writes against its deletion.
 */
@Entity({ name: "device_state" })
export class DeviceStateRow {
  @PrimaryColumn({ type: "uuid", name: "device_id" })
  deviceId: string;

  @OneToOne("Device", { onDelete: "CASCADE" })
  @JoinColumn({ name: "device_id" })
  device: Device;

  @Column({ type: "jsonb", default: () => "'{}'" })
  reported: Record<string, JsonValue>;

  /** Per key: when it was last reported (epoch ms). */
  @Column({ type: "jsonb", name: "reported_ts", default: () => "'{}'" })
  reportedTs: Record<string, number>;

  @Column({ type: "timestamptz", name: "reported_at", nullable: true })
  reportedAt: Date | null;

  @Column({ type: "jsonb", default: () => "'{}'" })
  desired: Record<string, DesiredEntry>;

  /** Increases with every change; writers use it for optimistic concurrency across processes. */
  @Column({ type: "integer", default: 0 })
  version: number;
}
