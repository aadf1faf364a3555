import { randomBytes } from "node:crypto";
import type { Pool } from "pg";
import { withTransaction } from "../db/transaction.js";
import { hashToken } from "./device-directory.service.js";
import { Topic, type EventBus } from "./event-bus.js";
import { badInput } from "./errors.js";

export interface NewDevice {
  name: string;
  type?: string | null;
  location?: string | null;
}

/** 32 random bytes, URL-safe: unguessable, so a fast SHA-256 is a sufficient stored form. */
export function newDeviceToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Device lifecycle: creation with its state row, token rotation and deletion with everything that
 * hangs off the device. Ownership is the caller's check (the GraphQL layer scopes by owner).
 */
export class DeviceService {
  constructor(
    private readonly pool: Pool,
    private readonly bus: EventBus,
  ) {}

  async create(ownerId: string, input: NewDevice): Promise<{ id: string; token: string }> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw badInput("name must be 1 to 100 characters");
    const token = newDeviceToken();
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO devices (owner_id, name, type, location, token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [ownerId, name, input.type ?? null, input.location ?? null, hashToken(token)],
      );
      const id = rows[0]!.id;
      await client.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
      return { id, token };
    });
  }

  /** A new token; the old one fails from the moment this returns, in every process. */
  async rotateToken(deviceId: string, ownerId: string): Promise<string | undefined> {
    const token = newDeviceToken();
    const { rowCount } = await this.pool.query(`UPDATE devices SET token_hash = $1, updated_at = now() WHERE id = $2 AND owner_id = $3`, [
      hashToken(token),
      deviceId,
      ownerId,
    ]);
    if (!rowCount) return undefined;
    this.bus.publish(Topic.DeviceCredentialsChanged, { deviceId });
    return token;
  }

  /**
   * Deletes the device with its state and history. Locking the state row first waits for an
   * ingest batch that holds it, so no history row of that batch is left behind.
   */
  async delete(deviceId: string, ownerId: string): Promise<boolean> {
    const deleted = await withTransaction(this.pool, async (client) => {
      const owned = await client.query(`SELECT 1 FROM devices WHERE id = $1 AND owner_id = $2 FOR UPDATE`, [deviceId, ownerId]);
      if (owned.rowCount === 0) return false;
      await client.query(`SELECT 1 FROM device_state WHERE device_id = $1 FOR UPDATE`, [deviceId]);
      await client.query(`DELETE FROM telemetry WHERE device_id = $1`, [deviceId]);
      await client.query(`DELETE FROM devices WHERE id = $1`, [deviceId]);
      return true;
    });
    if (deleted) this.bus.publish(Topic.DeviceCredentialsChanged, { deviceId });
    return deleted;
  }
}
