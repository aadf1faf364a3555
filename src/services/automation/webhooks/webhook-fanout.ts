import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { JsonValue } from "../../../platform/json.js";
import { claimEntries, type OutboxEvent } from "../../../platform/db/outbox.js";
import { WebhookEvent } from "../../../entities/webhook.entity.js";

const MAX_BATCH = 500;
const CACHE_MAX_USERS = 10_000;

/** Events a webhook subscribes to by name; `all` covers exactly these. */
const SUBSCRIBABLE = new Set<string>(Object.values(WebhookEvent).filter((e) => e !== WebhookEvent.all));

export interface FanoutEvent {
  userId: string;
  event: string;
  data: Record<string, JsonValue>;
  deviceId: string | null;
  /** When it happened (ISO 8601); the payload's `timestamp`. */
  timestamp: string;
  /** A rule's webhook action: this webhook only, whatever its event and device filters. */
  webhookId?: string;
}

interface ActiveHook {
  id: string;
  events: string[];
  deviceId: string | null;
}

/** The webhook event of a report's durable event. */
export function fanoutEventOf({ topic, payload }: OutboxEvent): FanoutEvent {
  const { deviceId, ownerId: userId, timestamp } = payload;
  if (topic === "telemetry.reported") return { userId, event: WebhookEvent.telemetry_update, data: { deviceId, data: payload.data }, deviceId, timestamp };
  return { userId, event: WebhookEvent.state_confirmed, data: { deviceId, confirmed: payload.confirmed }, deviceId, timestamp };
}

/** Events written together: one event, or the events of one outbox entry (claimed with their deliveries). */
interface Unit {
  events: FanoutEvent[];
  outboxId?: string;
  done: () => void;
}

export function matches(hook: ActiveHook, e: FanoutEvent): boolean {
  if (e.webhookId) return hook.id === e.webhookId;
  const subscribed = hook.events.includes(e.event) || (hook.events.includes(WebhookEvent.all) && SUBSCRIBABLE.has(e.event));
  return subscribed && (hook.deviceId === null || hook.deviceId === e.deviceId);
}

/**
 * Turns events into stored deliveries with their jobs, off the caller's path: events are buffered
 * and each write takes everything that arrived meanwhile (one lookup of active webhooks and one
 * INSERT per batch, however busy ingest is).
 */
export class WebhookFanout {
  private readonly cache = new Map<string, { until: number; hooks: ActiveHook[] }>();
  private buffer: Unit[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly options: { task: string; jobMaxAttempts: number; cacheMs: number },
  ) {}

  /** Resolves once the event's deliveries are stored and queued (or could not be: that is logged). */
  push(event: FanoutEvent): Promise<void> {
    return this.add([event]);
  }

  /**
   * The events of an outbox entry: its deliveries are stored in the statement that deletes the entry,
   * and none when another process deleted it first, so each entry is fanned out exactly once.
   */
  pushEntry(outboxId: string, events: FanoutEvent[]): Promise<void> {
    return this.add(events, outboxId);
  }

  private add(events: FanoutEvent[], outboxId?: string): Promise<void> {
    return new Promise((done) => {
      this.buffer.push({ events, ...(outboxId ? { outboxId } : {}), done });
      this.draining ??= this.drain();
    });
  }

  /** Resolves when everything pushed so far is written. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** The user's webhooks changed (here: one was disabled); the next event reads them again. */
  forget(userId: string): void {
    this.cache.delete(userId);
  }

  private async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // let the rest of this turn's events join
    while (this.buffer.length > 0) {
      // Whole units, about MAX_BATCH events: an outbox entry is never split across two writes.
      let units = 0;
      for (let events = 0; units < this.buffer.length && events < MAX_BATCH; units++) events += this.buffer[units]!.events.length;
      const batch = this.buffer.splice(0, units);
      try {
        await this.write(batch);
      } catch (error) {
        // An outbox entry stays in its table and is handed over again; a plain event is lost (logged).
        this.log.error({ err: error, events: batch.length }, "could not enqueue webhook deliveries");
      }
      for (const item of batch) item.done();
    }
    this.draining = undefined;
  }

  private async write(batch: Unit[]): Promise<void> {
    // The same entry twice in one batch (handed over by a sweep while still queued here) counts once.
    const entries = new Set<string>();
    const units = batch.filter((u) => !u.outboxId || (!entries.has(u.outboxId) && entries.add(u.outboxId)));
    const hooksOf = await this.activeHooks([...new Set(units.flatMap((u) => u.events.map((e) => e.userId)))]);
    const rows = [];
    for (const unit of units) {
      for (const e of unit.events) {
        for (const hook of hooksOf.get(e.userId) ?? []) {
          if (!matches(hook, e)) continue;
          const id = randomUUID();
          const payload = { id, event: e.event, timestamp: e.timestamp, data: e.data };
          rows.push({ id, webhook_id: hook.id, event: e.event, payload, o: unit.outboxId ?? null });
        }
      }
    }
    if (rows.length === 0 && entries.size === 0) return;
    // The log row and its job commit together (graphile-worker's SQL API), so neither exists without
    // the other, and with the removal of their outbox entry: deliveries of an entry another process
    // claimed first are not stored. A webhook deleted since it was matched is skipped.
    await this.pool.query(
      `WITH claimed AS (${claimEntries("$4")}),
       d AS (
         INSERT INTO webhook_deliveries (id, webhook_id, event, payload)
         SELECT x.id, x.webhook_id, x.event, x.payload
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, webhook_id uuid, event text, payload jsonb, o bigint)
          WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.id = x.webhook_id)
            AND (x.o IS NULL OR x.o IN (SELECT id FROM claimed))
         RETURNING id
       )
       SELECT count(graphile_worker.add_job($2, json_build_object('deliveryId', d.id, 'attempt', 0), max_attempts := $3)) AS n FROM d`,
      [JSON.stringify(rows), this.options.task, this.options.jobMaxAttempts, [...entries]],
    );
  }

  /**
   * Active webhooks per user: from a short-lived cache, the rest in one query. The cache is per
   * process and not told about changes made elsewhere: a new webhook may miss events for `cacheMs`;
   * a disabled or deleted one gets none, as delivery checks the webhook again.
   */
  private async activeHooks(userIds: string[]): Promise<Map<string, ActiveHook[]>> {
    const now = Date.now();
    const found = new Map<string, ActiveHook[]>();
    const missing: string[] = [];
    for (const id of userIds) {
      const cached = this.cache.get(id);
      if (cached && cached.until > now) found.set(id, cached.hooks);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const { rows } = await this.pool.query<{ id: string; user_id: string; events: string[]; device_id: string | null }>(
      `SELECT id, user_id, events, device_id FROM webhooks WHERE user_id = ANY($1::uuid[]) AND active`,
      [missing],
    );
    for (const id of missing) found.set(id, []);
    for (const row of rows) found.get(row.user_id)!.push({ id: row.id, events: row.events, deviceId: row.device_id });
    if (this.options.cacheMs > 0) {
      if (this.cache.size > CACHE_MAX_USERS) this.cache.clear();
      for (const id of missing) this.cache.set(id, { until: now + this.options.cacheMs, hooks: found.get(id)! });
    }
    return found;
  }
}
