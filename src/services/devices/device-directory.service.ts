import { UUID_RE } from "../../platform/ids.js";
import { hashToken } from "../../platform/secrets.js";
import type { Pool } from "pg";
import { LruMap } from "toad-cache";

export interface DeviceInfo {
  readonly id: string;
  readonly ownerId: string;
  readonly tokenHash: string;
  /** Last known status; PresenceService keeps it current. */
  status: "online" | "offline";
}

/**
 * Who a device is, by token or by id, answered from memory after the first look-up so that a
 * device request costs no query for authentication. Entries are dropped when a token rotates or a
 * device is deleted (`forget`), and evicted least-recently-used beyond `max`.
 */
export class DeviceDirectory {
  private readonly byToken: LruMap<DeviceInfo>;
  private readonly byId: LruMap<DeviceInfo>;
  private readonly inflight = new Map<string, Promise<DeviceInfo | undefined>>();
  /** Bumped by `forget`: a look-up that started before it must not cache what it read. */
  private epoch = 0;

  constructor(
    private readonly pool: Pool,
    max = 100_000,
  ) {
    this.byToken = new LruMap(max);
    this.byId = new LruMap(max);
  }

  async findByToken(token: string): Promise<DeviceInfo | undefined> {
    const tokenHash = hashToken(token);
    return this.byToken.get(tokenHash) ?? this.load("token_hash", tokenHash);
  }

  async findById(id: string): Promise<DeviceInfo | undefined> {
    if (!UUID_RE.test(id)) return undefined;
    return this.byId.get(id.toLowerCase()) ?? this.load("id", id.toLowerCase());
  }

  /** Cached entry only: for hot paths that must not wait. */
  peek(id: string): DeviceInfo | undefined {
    return this.byId.get(id);
  }

  forget(deviceId: string): void {
    const info = this.byId.get(deviceId);
    if (info) this.byToken.delete(info.tokenHash);
    this.byId.delete(deviceId);
    this.epoch++;
  }

  private load(column: "id" | "token_hash", value: string): Promise<DeviceInfo | undefined> {
    const flightKey = `${column}:${value}`;
    let pending = this.inflight.get(flightKey);
    if (!pending) {
      const epoch = this.epoch;
      pending = this.pool
        .query<{ id: string; owner_id: string; token_hash: string; status: "online" | "offline" }>(
          `SELECT id, owner_id, token_hash, status FROM devices WHERE ${column} = $1`,
          [value],
        )
        .then(({ rows }) => {
          const row = rows[0];
          if (!row) return undefined;
          const info: DeviceInfo = { id: row.id, ownerId: row.owner_id, tokenHash: row.token_hash, status: row.status };
          if (epoch !== this.epoch) return info;
          this.byId.set(info.id, info);
          this.byToken.set(info.tokenHash, info);
          return info;
        })
        .finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, pending);
    }
    return pending;
  }
}
