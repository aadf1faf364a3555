import { randomBytes } from "node:crypto";
import { deleteHistoryOf } from "../../platform/db/history-purge.js";
import type { Pool } from "pg";
import { In, type DataSource } from "typeorm";
import { withTransaction } from "../../platform/db/transaction.js";
import { Device } from "../../entities/device.entity.js";
import { UUID_RE } from "../../platform/ids.js";
import { hashToken } from "../../platform/secrets.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import { badInput, notFound } from "../../platform/errors.js";

export interface NewDevice {
  name: string;
  type?: string | null;
  location?: string | null;
}

export interface DeviceChanges {
  name?: string | null;
  type?: string | null;
  location?: string | null;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw badInput("name must be 1 to 100 characters");
  return trimmed;
}

function checkOptional(value: string | null | undefined, field: string): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length > 100) throw badInput(`${field} must be at most 100 characters`);
  return trimmed.length === 0 ? null : trimmed;
}

const deviceNotFound = () => notFound("device");

/** 32 random bytes, URL-safe: unguessable, so a fast SHA-256 is a sufficient stored form. */
export function newDeviceToken(): string {
  return randomBytes(32).toString("base64url");
}

export const DEFAULT_MAX_DEVICES_PER_USER = 1000;

/**
 * Device lifecycle: creation with its state row, token rotation and deletion with everything that
 * hangs off the device. Every method that takes an owner scopes its SQL by it: another user's device
 * is not found, exactly like an unknown id.
 */
export class DeviceService {
  constructor(
    private readonly pool: Pool,
    private readonly bus: EventBus,
    private readonly dataSource: DataSource,
    /** Each device has its own REST budget: without a quota one account could multiply its own. */
    private readonly maxDevices = DEFAULT_MAX_DEVICES_PER_USER,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Device);
  }

  list(ownerId: string): Promise<Device[]> {
    return this.repo.find({ where: { ownerId }, order: { createdAt: "ASC", id: "ASC" } });
  }

  /** The caller's devices among `ids`; ids that are malformed or someone else's are simply absent. */
  async findOwned(ownerId: string, ids: readonly string[]): Promise<Map<string, Device>> {
    const valid = [...new Set(ids.filter((id) => UUID_RE.test(id)).map((id) => id.toLowerCase()))];
    const found = valid.length === 0 ? [] : await this.repo.findBy({ ownerId, id: In(valid) });
    const byId = new Map(found.map((d) => [d.id, d]));
    return new Map(ids.filter((id) => byId.has(id.toLowerCase())).map((id) => [id, byId.get(id.toLowerCase())!]));
  }

  async getOwned(ownerId: string, id: string): Promise<Device | undefined> {
    return (await this.findOwned(ownerId, [id])).get(id);
  }

  /** Like getOwned, but another user's or an unknown id is NOT_FOUND. */
  async requireOwned(ownerId: string, id: string): Promise<Device> {
    const device = await this.getOwned(ownerId, id);
    if (!device) throw deviceNotFound();
    return device;
  }

  async update(ownerId: string, id: string, changes: DeviceChanges): Promise<Device> {
    const device = await this.requireOwned(ownerId, id);
    if (changes.name != null) device.name = checkName(changes.name);
    if (changes.type !== undefined) device.type = checkOptional(changes.type, "type");
    if (changes.location !== undefined) device.location = checkOptional(changes.location, "location");
    return this.repo.save(device);
  }

  async deleteOwned(ownerId: string, id: string): Promise<boolean> {
    const device = await this.requireOwned(ownerId, id);
    if (!(await this.delete(device.id, ownerId))) throw deviceNotFound();
    return true;
  }

  async rotateOwned(ownerId: string, id: string): Promise<string> {
    const device = await this.requireOwned(ownerId, id);
    const token = await this.rotateToken(device.id, ownerId);
    if (!token) throw deviceNotFound();
    return token;
  }

  async create(ownerId: string, input: NewDevice): Promise<{ id: string; token: string }> {
    const name = checkName(input.name);
    const type = checkOptional(input.type, "type");
    const location = checkOptional(input.location, "location");
    const token = newDeviceToken();
    return withTransaction(this.pool, async (client) => {
      // The owner's row lock makes concurrent creations take turns, so the quota holds under a burst.
      await client.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [ownerId]);
      const { rows: counted } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM devices WHERE owner_id = $1`, [ownerId]);
      if (counted[0]!.n >= this.maxDevices) throw badInput(`at most ${this.maxDevices} devices per account (MAX_DEVICES_PER_USER)`);
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO devices (owner_id, name, type, location, token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [ownerId, name, type, location, hashToken(token)],
      );
      const id = rows[0]!.id;
      await client.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
      return { id, token };
    });
  }

  /**
   * A new token. The old one fails in this process from the moment this returns; other processes
   * drop it when the DeviceCredentialsChanged event reaches them over Redis (milliseconds).
   */
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
      await deleteHistoryOf(client, [deviceId]);
      await client.query(`DELETE FROM devices WHERE id = $1`, [deviceId]);
      return true;
    });
    if (deleted) this.bus.publish(Topic.DeviceCredentialsChanged, { deviceId });
    return deleted;
  }
}
