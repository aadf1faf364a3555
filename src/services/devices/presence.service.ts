import type { Pool } from "pg";
import type { Logger } from "pino";
import type { DeviceDirectory, DeviceInfo } from "./device-directory.service.js";
import type { JobQueue } from "../../platform/jobs.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";

const SWEEP_TASK = "presence.sweep";

/** How a device reaches the server. */
export type Transport = "http" | "mqtt";

/**
 * Online/offline status. A contact (report or poll) is noted in memory and flushed in batches every
 * `flushMs`, so a poll costs no write; only a status transition is written at once. The offline
 * sweep is a durable job that reschedules itself under one job key, so it runs once per period
 * however many processes there are; each transition is emitted once, by the process whose
 * conditional UPDATE changed the row.
 */
export class PresenceService {
  private pending = new Map<string, number>();
  /** Devices coming online, written together: one statement per turn, one in flight at a time. */
  private arrivals: Array<{ device: DeviceInfo; at: number; transport: Transport }> = [];
  private arriving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly directory: DeviceDirectory,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly jobs: JobQueue,
    private readonly options: { offlineMs: number; flushMs: number },
  ) {
    jobs.register(SWEEP_TASK, async () => {
      try {
        await this.sweep();
      } finally {
        await this.jobs.add(SWEEP_TASK, {}, { jobKey: SWEEP_TASK, runAt: new Date(Date.now() + this.sweepEveryMs) });
      }
    });
  }

  private get sweepEveryMs(): number {
    return Math.min(this.options.flushMs, 5000);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.flushMs);
    this.timer.unref();
  }

  /** Makes sure the periodic sweep job exists (every process calls this at start; one job results). */
  async schedule(): Promise<void> {
    await this.jobs.add(SWEEP_TASK, {}, { jobKey: SWEEP_TASK, preserveRunAt: true, runAt: new Date(Date.now() + this.sweepEveryMs) });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.arriving;
    await this.flush().catch((error) => this.log.warn({ err: (error as Error).message }, "last-seen flush at shutdown failed"));
  }

  /** A contact: a report, a poll, or (for a held connection) proof that the session is alive. */
  touch(device: DeviceInfo, at = Date.now(), transport: Transport = "http"): void {
    this.pending.set(device.id, at);
    if (device.status !== "online") {
      device.status = "online"; // at most one transition write in flight per device
      this.arrivals.push({ device, at, transport });
      this.arriving ??= this.markOnline();
    }
  }

  /** Writes the contacts seen since the last flush (the timer does it every `flushMs`). */
  tick(): Promise<void> {
    this.running = this.running.then(() => this.flush()).catch((error: Error) => this.log.warn({ err: error.message }, "presence tick failed"));
    return this.running;
  }

  /**
   * Writes the transitions to online that arrived meanwhile, in one statement, until none are left:
   * a whole fleet coming back after an outage costs a few statements, not one per device.
   */
  private async markOnline(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // the rest of this turn's contacts join
    while (this.arrivals.length > 0) {
      const batch = this.arrivals.splice(0, 5000);
      try {
        const { rows } = await this.pool.query<{ id: string; owner_id: string; t: number }>(
          `UPDATE devices d SET status = 'online', last_seen_at = greatest(d.last_seen_at, to_timestamp(x.t / 1000.0)),
                  transport = x.tr, connected_since = to_timestamp(x.t / 1000.0),
                  connection_id = CASE WHEN x.tr = 'mqtt' THEN d.connection_id END
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, t double precision, tr text)
            WHERE d.id = x.id AND d.status = 'offline' RETURNING d.id, d.owner_id, x.t`,
          [JSON.stringify(batch.map((a) => ({ id: a.device.id, t: a.at, tr: a.transport })))],
        );
        for (const row of rows) this.publishStatus(row.id, row.owner_id, "online", row.t);
      } catch (error) {
        for (const { device } of batch) device.status = "offline"; // their next contact tries again
        this.log.warn({ err: error, devices: batch.length }, "could not mark devices online");
      }
    }
    this.arriving = undefined;
  }

  /**
   * A held connection (an MQTT session) opened: the device is online from now on, whatever it was,
   * and the session is recorded as the one holding it.
   */
  async connect(device: DeviceInfo, connectionId: string, at = Date.now()): Promise<void> {
    device.status = "online";
    this.pending.set(device.id, at);
    const { rows } = await this.pool.query<{ owner_id: string; was: string }>(
      `WITH prev AS (SELECT id, status FROM devices WHERE id = $1 FOR UPDATE)
       UPDATE devices d SET status = 'online', transport = 'mqtt', connection_id = $2,
              connected_since = to_timestamp($3 / 1000.0), last_seen_at = greatest(d.last_seen_at, to_timestamp($3 / 1000.0))
         FROM prev WHERE d.id = prev.id RETURNING d.owner_id, prev.status AS was`,
      [device.id, connectionId, at],
    );
    if (rows[0]?.was === "offline") this.publishStatus(device.id, rows[0].owner_id, "online", at);
  }

  /**
   * A held connection ended (closed, or its keep-alive ran out): the device is offline at once,
   * unless another session took it over meanwhile (then the row names that one).
   */
  async disconnect(device: DeviceInfo, connectionId: string, at = Date.now()): Promise<void> {
    const { rows } = await this.pool.query<{ owner_id: string; was: string }>(
      `WITH prev AS (SELECT id, status FROM devices WHERE id = $1 AND connection_id = $2 FOR UPDATE)
       UPDATE devices d SET status = 'offline', connection_id = NULL, connected_since = NULL,
              last_seen_at = greatest(d.last_seen_at, to_timestamp($3 / 1000.0))
         FROM prev WHERE d.id = prev.id RETURNING d.owner_id, prev.status AS was`,
      [device.id, connectionId, at],
    );
    if (!rows[0]) return;
    device.status = "offline";
    this.pending.delete(device.id);
    if (rows[0].was === "online") this.publishStatus(device.id, rows[0].owner_id, "offline", at);
  }

  /** Many held connections ended at once (server shutdown): one write, then one event per device that went offline. */
  async disconnectMany(sessions: ReadonlyArray<{ device: DeviceInfo; connectionId: string }>, at = Date.now()): Promise<void> {
    if (sessions.length === 0) return;
    const { rows } = await this.pool.query<{ id: string; owner_id: string; was: string }>(
      `WITH prev AS (
         SELECT d.id, d.status FROM devices d JOIN unnest($1::uuid[], $2::uuid[]) AS x(id, conn) ON d.id = x.id AND d.connection_id = x.conn FOR UPDATE OF d)
       UPDATE devices d SET status = 'offline', connection_id = NULL, connected_since = NULL,
              last_seen_at = greatest(d.last_seen_at, to_timestamp($3 / 1000.0))
         FROM prev WHERE d.id = prev.id RETURNING d.id, d.owner_id, prev.status AS was`,
      [sessions.map((s) => s.device.id), sessions.map((s) => s.connectionId), at],
    );
    const byId = new Map(sessions.map((s) => [s.device.id, s.device]));
    for (const row of rows) {
      const device = byId.get(row.id);
      if (device) device.status = "offline";
      this.pending.delete(row.id);
      if (row.was === "online") this.publishStatus(row.id, row.owner_id, "offline", at);
    }
  }

  private publishStatus(deviceId: string, ownerId: string, status: "online" | "offline", at: number): void {
    this.bus.publish(Topic.DeviceStatusChanged, { deviceId, ownerId, status, timestamp: new Date(at).toISOString() });
  }

  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.pool.query(
        `UPDATE devices d SET last_seen_at = greatest(d.last_seen_at, to_timestamp(x.t / 1000.0))
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, t double precision) WHERE d.id = x.id`,
        [JSON.stringify([...batch].map(([id, t]) => ({ id, t })))],
      );
    } catch (error) {
      for (const [id, t] of batch) if ((this.pending.get(id) ?? 0) < t) this.pending.set(id, t);
      throw error;
    }
  }

  private async sweep(): Promise<void> {
    await this.tick();
    // Other processes write their contacts every flushMs: give them that long before calling silence.
    const cutoff = Date.now() - this.options.offlineMs - this.options.flushMs;
    const { rows } = await this.pool.query<{ id: string; owner_id: string }>(
      `UPDATE devices SET status = 'offline', connected_since = NULL
        WHERE status = 'online' AND (last_seen_at IS NULL OR last_seen_at < to_timestamp($1 / 1000.0))
          AND id <> ALL($2::uuid[])
        RETURNING id, owner_id`,
      [cutoff, [...this.pending.keys()]], // contacts since the flush are not silence
    );
    const now = new Date().toISOString();
    for (const row of rows) {
      const cached = this.directory.peek(row.id);
      if (cached) cached.status = "offline";
      this.bus.publish(Topic.DeviceStatusChanged, { deviceId: row.id, ownerId: row.owner_id, status: "offline", timestamp: now });
    }
  }
}
