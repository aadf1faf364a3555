import type { Pool, PoolClient } from "pg";
import type { Logger } from "pino";
import type { JsonValue } from "../json.js";

/** The events whose side effects must survive a crash, with what those effects need. */
export interface OutboxEvents {
  "telemetry.reported": { deviceId: string; ownerId: string; data: Record<string, JsonValue>; timestamp: string };
  "state.confirmed": { deviceId: string; ownerId: string; confirmed: Record<string, JsonValue>; timestamp: string };
}

export type OutboxEvent = { [T in keyof OutboxEvents]: { topic: T; payload: OutboxEvents[T] } }[keyof OutboxEvents];

/** The events one transaction raised, under the id of their row. */
export interface OutboxEntry {
  readonly id: string;
  readonly events: readonly OutboxEvent[];
}

/**
 * What acts on the entries. It must delete each entry in the same transaction as the effects it
 * stores for it (see `CLAIM`), and store nothing for an entry it could not delete: then an entry is
 * acted on exactly once, however many processes hand it over. Resolves when done or failed (an
 * entry left in the table is handed over again later).
 */
export type OutboxConsumer = (entries: readonly OutboxEntry[]) => Promise<void>;

/** The consumer's claim: the ids of `$n::bigint[]` it removed, and so now owns. */
export const claimEntries = (param: string) => `DELETE FROM event_outbox WHERE id = ANY(${param}::bigint[]) RETURNING id`;

/** An entry older than this was not acted on by the process that wrote it (it died, or its consumer failed). */
const GRACE_S = 5;
const SWEEP_MS = 5000;
const SWEEP_BATCH = 200;

/**
 * Transactional outbox. A change writes its events in its own transaction (`write`), so they exist
 * exactly when the change does; after the commit the writer hands them to the consumer at once
 * (`dispatched`), and a sweep in every process hands over what a crash or a failure left behind.
 * The table holds only what is in flight: normally a row lives for milliseconds.
 */
export class Outbox {
  private consumer: OutboxConsumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** One consumer (today the webhook fan-out); without one nothing is written. */
  consume(consumer: OutboxConsumer): void {
    if (this.consumer) throw new Error("the outbox already has a consumer");
    this.consumer = consumer;
  }

  /** Stores the events in the caller's transaction; the id to hand to `dispatched` after its commit. */
  async write(client: PoolClient, events: readonly OutboxEvent[]): Promise<string | undefined> {
    if (!this.consumer || events.length === 0) return undefined;
    const { rows } = await client.query<{ id: string }>(`INSERT INTO event_outbox (events) VALUES ($1::jsonb) RETURNING id`, [JSON.stringify(events)]);
    return rows[0]!.id;
  }

  /** The transaction that wrote the entry committed: act on it now (in the background). */
  dispatched(entry: OutboxEntry): void {
    void this.consumer?.([entry]).catch((error: unknown) => this.log.warn({ err: error }, "outbox consumer failed; the sweep retries"));
  }

  /** Sweeps now and then every few seconds; the timer never keeps the process alive. */
  start(): void {
    if (!this.consumer || this.timer) return;
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** Hands the entries left behind to the consumer. */
  sweep(): Promise<void> {
    this.sweeping ??= this.handOverLeftovers()
      .catch((error: unknown) => this.log.debug({ err: error }, "outbox sweep failed"))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async handOverLeftovers(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    // Onwards from the last id handed over: an entry its consumer failed on waits for the next sweep.
    let after = "0";
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; events: OutboxEvent[] }>(
        `SELECT id, events FROM event_outbox WHERE id > $1 AND created_at < now() - make_interval(secs => $2) ORDER BY id LIMIT $3`,
        [after, GRACE_S, SWEEP_BATCH],
      );
      if (rows.length === 0) return;
      this.log.warn({ entries: rows.length }, "handing over outbox entries left behind");
      await consumer(rows);
      if (rows.length < SWEEP_BATCH) return;
      after = rows.at(-1)!.id;
    }
  }
}
