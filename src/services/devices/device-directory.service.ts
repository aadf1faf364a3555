import { UUID_RE } from "../../platform/ids.js";
import { hashToken } from "../../platform/secrets.js";
import type { Pool } from "pg";
import { LoadingCache } from "../../platform/loading-cache.js";
import { BatchedLookup } from "../../platform/db/batched-lookup.js";

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
const CACHE_TTL_MS = 60_000;

interface DeviceRow {
  id: string;
  owner_id: string;
  token_hash: string;
  status: "online" | "offline";
}

export class DeviceDirectory {
  private readonly byToken: LoadingCache<string, DeviceInfo>;
  private readonly byId: LoadingCache<string, DeviceInfo>;
  /** Bumped by `forget`: a look-up that started before it must not teach the other map what it read. */
  private generation = 0;
  /** Misses of a burst (a fleet reconnecting) go to the database together, not one query and connection each. */
  private readonly rowsByToken: BatchedLookup<DeviceRow>;
  private readonly rowsById: BatchedLookup<DeviceRow>;

  constructor(
    private readonly pool: Pool,
    max = 100_000,
  ) {
    // The TTL bounds how long a change made without an event (another process without Redis, the
    // admin command, an outage of Redis) can go unseen; events make it immediate.
    this.rowsByToken = new BatchedLookup((hashes) => this.rows("token_hash", hashes));
    this.rowsById = new BatchedLookup((ids) => this.rows("id", ids));
    this.byToken = new LoadingCache({ max, ttlMs: CACHE_TTL_MS, load: (tokenHash) => this.load("token_hash", tokenHash) });
    this.byId = new LoadingCache({ max, ttlMs: CACHE_TTL_MS, load: (id) => this.load("id", id) });
  }

  findByToken(token: string): Promise<DeviceInfo | undefined> {
    return this.byToken.get(hashToken(token));
  }

  async findById(id: string): Promise<DeviceInfo | undefined> {
    if (!UUID_RE.test(id)) return undefined;
    return this.byId.get(id.toLowerCase());
  }

  /** Cached entry only: for hot paths that must not wait. */
  peek(id: string): DeviceInfo | undefined {
    return this.byId.peek(id);
  }

  /** Everything may be stale (events were lost): every entry goes. */
  forgetAll(): void {
    this.generation++;
    this.byToken.clear();
    this.byId.clear();
  }

  /**
   * The device's token or owner changed, or it is gone. A token look-up in flight may be reading the
   * rotated-out token: every one is dropped, so a request arriving now reads the new row.
   */
  forget(deviceId: string): void {
    const info = this.byId.peek(deviceId);
    if (info) this.byToken.forget(info.tokenHash);
    this.byToken.forgetLoads();
    this.byId.forget(deviceId);
    this.generation++;
  }

  private async load(column: "id" | "token_hash", value: string): Promise<DeviceInfo | undefined> {
    const generation = this.generation;
    const row = await (column === "token_hash" ? this.rowsByToken : this.rowsById).load(value);
    if (!row) return undefined;
    const info: DeviceInfo = { id: row.id, ownerId: row.owner_id, tokenHash: row.token_hash, status: row.status };
    // Found by one key: the other learns it too, unless that key changed meanwhile.
    if (generation !== this.generation) return info;
    if (column === "token_hash") this.byId.set(info.id, info);
    else this.byToken.set(info.tokenHash, info);
    return info;
  }

  private async rows(column: "id" | "token_hash", values: string[]): Promise<Map<string, DeviceRow>> {
    const type = column === "id" ? "uuid" : "text";
    const { rows } = await this.pool.query<DeviceRow>(`SELECT id, owner_id, token_hash, status FROM devices WHERE ${column} = ANY($1::${type}[])`, [values]);
    return new Map(rows.map((row) => [column === "id" ? row.id : row.token_hash, row]));
  }
}
