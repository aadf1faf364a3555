import type { Pool } from "pg";
import type { Logger } from "pino";
import type { DeviceDirectory, DeviceInfo } from "./device-directory.service.js";
import type { JobQueue } from "../../platform/jobs.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";

const SWEEP_TASK = "presence.sweep";

/**
 * Online/offline status. A contact (report or poll) is noted in memory and flushed in batches every
 * `flushMs`, so a poll costs no write; only a status transition is written at once. The offline
 * sweep is a durable job that reschedules itself under one job key, so it runs once per period
 * however many processes there are; each transition is emitted once, by the process whose
 * conditional UPDATE changed the row.
 */
export class PresenceService {
  private pending = new Map<string, number>();
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
    await this.flush().catch((error) => this.log.warn({ err: (error as Error).message }, "last-seen flush at shutdown failed"));
  }

  touch(device: DeviceInfo, at = Date.now()): void {
    this.pending.set(device.id, at);
    if (device.status !== "online") {
      device.status = "online"; // at most one transition write in flight per device
      this.markOnline(device, at).catch((error) => {
        device.status = "offline"; // the next contact tries again
        this.log.warn({ err: error, deviceId: device.id }, "could not mark device online");
      });
    }
  }

  /** Writes the contacts seen since the last flush (the timer does it every `flushMs`). */
  tick(): Promise<void> {
    this.running = this.running.then(() => this.flush()).catch((error: Error) => this.log.warn({ err: error.message }, "presence tick failed"));
    return this.running;
  }

  private async markOnline(device: DeviceInfo, at: number): Promise<void> {
    const { rows } = await this.pool.query<{ owner_id: string }>(
      `UPDATE devices SET status = 'online', last_seen_at = greatest(last_seen_at, to_timestamp($2 / 1000.0))
        WHERE id = $1 AND status = 'offline' RETURNING owner_id`,
      [device.id, at],
    );
    const row = rows[0];
    if (row) {
      this.bus.publish(Topic.DeviceStatusChanged, {
        deviceId: device.id,
        ownerId: row.owner_id,
        status: "online",
        timestamp: new Date(at).toISOString(),
      });
    }
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
      `UPDATE devices SET status = 'offline'
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
