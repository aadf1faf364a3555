import type { Pool, PoolClient } from "pg";
import { withTransaction } from "../../platform/db/transaction.js";
import { LoadingCache } from "../../platform/loading-cache.js";
import { BatchedLookup } from "../../platform/db/batched-lookup.js";
import { UUID_RE } from "../../platform/ids.js";
import type { Outbox, OutboxEntry, OutboxEvent } from "../../platform/db/outbox.js";
import type { JsonValue } from "../../entities/device-state.entity.js";
import type { DeviceStateData } from "./device-state.model.js";
import { insertHistory, rollupRows, UPDATE_STATE, UPSERT_SERIES } from "./state-writer.sql.js";
import { documentOf, isRefusedContent, loadStates, rowOf } from "./state-writer.rows.js";
import { AppError, badInput, isDatabaseUnavailable, notFound, unavailable } from "../../platform/errors.js";

/** One history row: a reported key at its time (the device's, else the server's). */
export interface HistoryRow {
  d: string; // device id
  k: string;
  t: number; // epoch ms
  n: number | null;
  v: JsonValue | null;
}

/** A change to one device's state. `run` is pure: a batch may run it again after a conflict. */
export interface Mutation<R> {
  readonly deviceId: string;
  /** `outbox`: events whose side effects must survive a crash, committed with the change. */
  run(state: DeviceStateData): { next: DeviceStateData; history?: HistoryRow[]; outbox?: OutboxEvent[]; result: R } | null;
}

interface Queued {
  mutation: Mutation<unknown>;
  resolve(value: { state: DeviceStateData; result: unknown }): void;
  reject(error: unknown): void;
  attempts: number;
}

/** What a batch's transaction wrote, for the caller to settle each mutation after the commit. */
interface Written {
  working: Map<string, DeviceStateData>;
  base: Map<string, DeviceStateData>;
  outcomes: Array<{ state: DeviceStateData; result: unknown } | { error: unknown } | undefined>;
  conflicted: Set<string>;
  /** Series ids this transaction created or found, cached once it commits. */
  series: Map<string, number>;
  /** The batch's durable events, handed to the outbox's consumer after the commit. */
  outbox: OutboxEntry | undefined;
}

const MAX_BATCH = 2000;
/**
 * Transactions in flight at once. While one commits (waiting on the disk), the next collects and
 * writes other devices' changes; a device is never in two at once, so its changes keep their order.
 */
const MAX_IN_FLIGHT = 2;
/** After a commit found the database unavailable, queued changes are refused at once (503) this long. */
const UNAVAILABLE_HOLD_MS = 1000;
const MAX_ATTEMPTS = 5;
/** Series ids kept in memory; past this the map starts over (a miss costs one upsert per batch). */
const MAX_SERIES = 1_000_000;
const FIVE_MINUTES_MS = 300_000;
const HOUR_MS = 3_600_000;
const seriesKey = (deviceId: string, key: string) => `${deviceId}\u0000${key}`;

/**
 * Group commit for device state and history. Mutations that arrive while a transaction is in flight
 * wait for the next one, so under load one commit acknowledges hundreds of reports while each
 * request is still answered only after its own data is durable. The writer keeps the latest state
 * of each device in memory (reads cost no query) and writes with an optimistic version check, so
 * several processes writing the same device never lose each other's changes: a conflict reloads
 * the row and runs the mutation again.
 */
export class StateWriter {
  /** Reads of uncached devices in the same turn go as one query (a fleet polling after a restart). */
  private readonly loads = new BatchedLookup((ids) => loadStates(this.pool, ids));
  /** Latest committed state per device; a commit `set`s it, a change elsewhere `forget`s it. */
  private readonly cache = new LoadingCache<string, DeviceStateData>({
    max: 200_000,
    // A malformed id is no device, and must not fail the batch it would have joined.
    load: (deviceId) => (UUID_RE.test(deviceId) ? this.loads.load(deviceId) : Promise.resolve(undefined)),
  });
  private queue: Queued[] = [];
  private inFlight = 0;
  private unavailableUntil = 0;
  /** Devices whose changes are in a transaction right now. */
  private readonly busy = new Set<string>();
  private scheduled = false;
  /** History series id per device and key. */
  private readonly series = new Map<string, number>();
  private readonly insertHistory: string;
  private readonly rollups: boolean;

  constructor(
    private readonly pool: Pool,
    options: { rollups: boolean } = { rollups: true },
    private readonly outbox?: Outbox,
  ) {
    this.rollups = options.rollups;
    this.insertHistory = insertHistory(options.rollups);
  }

  submit<R>(mutation: Mutation<R>): Promise<{ state: DeviceStateData; result: R }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ mutation, resolve: resolve as Queued["resolve"], reject, attempts: 0 });
      this.schedule();
    });
  }

  /** Latest committed state, from memory when known. Undefined when the device does not exist. */
  read(deviceId: string): Promise<DeviceStateData | undefined> {
    return this.cache.get(deviceId);
  }

  /** Latest state of several devices: from memory, the rest in one query. */
  readMany(ids: readonly string[]): Promise<Map<string, DeviceStateData>> {
    return this.cache.getMany(ids, (missing) => loadStates(this.pool, missing));
  }

  /** Drop a device's cached state (deleted, or changed by another process). */
  forget(deviceId: string): void {
    this.cache.forget(deviceId);
  }

  forgetAll = (): void => this.cache.clear();

  private schedule(): void {
    if (this.inFlight >= MAX_IN_FLIGHT || this.scheduled) return;
    this.scheduled = true;
    // setImmediate lets every request parsed in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    if (Date.now() < this.unavailableUntil) {
      for (const q of this.queue.splice(0)) q.reject(unavailable());
      return;
    }
    // Take the queued changes of devices that are not in a transaction now; once one of a device's
    // changes has to wait, its later ones wait too, so each device's changes stay in order.
    const batch: Queued[] = [];
    const waiting: Queued[] = [];
    const held = new Set<string>();
    for (const q of this.queue) {
      const id = q.mutation.deviceId;
      if (this.busy.has(id) || held.has(id) || batch.length >= MAX_BATCH) {
        held.add(id);
        waiting.push(q);
      } else {
        batch.push(q);
      }
    }
    this.queue = waiting;
    if (batch.length === 0) return; // everything waits for a transaction in flight
    const ids = new Set(batch.map((q) => q.mutation.deviceId));
    for (const id of ids) this.busy.add(id);
    this.inFlight++;
    if (this.queue.length > 0) this.schedule();
    try {
      await this.commit(batch);
    } finally {
      for (const id of ids) this.busy.delete(id);
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async commit(batch: Queued[]): Promise<void> {
    const retry: Queued[] = [];
    await this.commitPart(batch, retry);
    // Retried mutations go first so a device's changes keep their order.
    if (retry.length > 0) this.queue.unshift(...retry);
  }

  /**
   * One transaction for `all`. When PostgreSQL refuses the batch's content (a value it cannot hold,
   * which no single row names), the batch is halved and each half tried in turn, so the offending
   * mutation fails alone and every other one commits. Halves run in order, and a device with a
   * change waiting for a conflict retry holds its later changes back: each device keeps its order.
   */
  private async commitPart(all: Queued[], retry: Queued[]): Promise<void> {
    const held = new Set(retry.map((q) => q.mutation.deviceId));
    const batch: Queued[] = [];
    for (const q of all) (held.has(q.mutation.deviceId) ? retry : batch).push(q);
    if (batch.length === 0) return;
    const ids = [...new Set(batch.map((q) => q.mutation.deviceId))];
    let written: Written;
    try {
      written = await withTransaction(this.pool, (client) => this.write(client, batch, ids));
    } catch (error) {
      // The outcome of a failed COMMIT is unknown: forget these devices and read them again.
      for (const id of ids) this.cache.forget(id);
      const refused = isRefusedContent(error);
      if (refused && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.commitPart(batch.slice(0, half), retry);
        await this.commitPart(batch.slice(half), retry);
        return;
      }
      if (isDatabaseUnavailable(error)) this.unavailableUntil = Date.now() + UNAVAILABLE_HOLD_MS;
      const reason = isDatabaseUnavailable(error) ? unavailable() : refused ? badInput(`the change could not be stored: ${(error as Error).message}`) : error;
      for (const q of batch) q.reject(reason);
      return;
    }

    const { working, base, outcomes, conflicted, series, outbox } = written;
    if (outbox) this.outbox!.dispatched(outbox);
    if (this.series.size + series.size > MAX_SERIES) this.series.clear();
    for (const [key, id] of series) this.series.set(key, id);
    for (const id of ids) {
      if (conflicted.has(id) || !base.has(id)) this.cache.forget(id);
      else this.cache.set(id, working.get(id)!);
    }
    batch.forEach((q, i) => {
      const outcome = outcomes[i];
      if (!outcome) return q.reject(notFound("device"));
      if ("error" in outcome) return q.reject(outcome.error);
      if (conflicted.has(q.mutation.deviceId)) {
        if (++q.attempts >= MAX_ATTEMPTS) return q.reject(new AppError("CONFLICT", "Device state is changing too fast; retry"));
        return retry.push(q);
      }
      q.resolve(outcome);
    });
  }

  private async write(client: PoolClient, batch: Queued[], ids: string[]): Promise<Written> {
    const missing = ids.filter((id) => !this.cache.peek(id));
    const loaded = missing.length > 0 ? await loadStates(client, missing) : new Map<string, DeviceStateData>();
    const base = new Map<string, DeviceStateData>();
    for (const id of ids) {
      const state = this.cache.peek(id) ?? loaded.get(id);
      if (state) base.set(id, state);
    }
    const working = new Map(base);
    const history: HistoryRow[] = [];
    const events: OutboxEvent[] = [];
    const outcomes: Written["outcomes"] = [];
    for (const q of batch) {
      const current = working.get(q.mutation.deviceId);
      if (!current) {
        outcomes.push(undefined);
        continue;
      }
      let out: ReturnType<Mutation<unknown>["run"]>;
      try {
        out = q.mutation.run(current);
      } catch (error) {
        outcomes.push({ error }); // a mutation that throws fails alone, its device's state untouched
        continue;
      }
      if (out) {
        working.set(q.mutation.deviceId, out.next);
        if (out.history) for (const row of out.history) history.push(row);
        if (out.outbox) for (const event of out.outbox) events.push(event);
      }
      outcomes.push({ state: out?.next ?? current, result: out?.result });
    }
    const changed = ids.filter((id) => working.get(id) !== base.get(id));
    const written = new Set<string>();
    if (changed.length > 0) {
      const rows = changed.map((id) => rowOf(working.get(id)!, base.get(id)!.version));
      const res = await client.query<{ device_id: string }>(UPDATE_STATE, [documentOf(rows)]);
      for (const r of res.rows) written.add(r.device_id);
    }
    // Another process changed these devices (or deleted them) since we cached them.
    const conflicted = new Set(changed.filter((id) => !written.has(id)));
    const durable = history.filter((h) => !conflicted.has(h.d));
    const series = new Map<string, number>();
    if (durable.length > 0) {
      await this.resolveSeries(client, durable, series);
      const points = durable.map((h) => ({ s: (this.series.get(seriesKey(h.d, h.k)) ?? series.get(seriesKey(h.d, h.k)))!, t: h.t, n: h.n, v: h.v }));
      const params = [documentOf(points)];
      if (this.rollups) params.push(documentOf(rollupRows(points, FIVE_MINUTES_MS)), documentOf(rollupRows(points, HOUR_MS)));
      await client.query(this.insertHistory, params);
    }
    const durableEvents = events.filter((e) => !conflicted.has(e.payload.deviceId));
    const outboxId = this.outbox && (await this.outbox.write(client, durableEvents));
    return { working, base, outcomes, conflicted, series, outbox: outboxId ? { id: outboxId, events: durableEvents } : undefined };
  }

  /**
   * Ids of the series the rows need that are not cached, upserted in this transaction: after the
   * state update, which holds the devices' state rows, so a device deleted meanwhile (it locks that
   * row first) cannot leave a series without its device.
   */
  private async resolveSeries(client: PoolClient, rows: HistoryRow[], found: Map<string, number>): Promise<void> {
    const missing = new Map<string, { d: string; k: string }>();
    for (const h of rows) {
      const key = seriesKey(h.d, h.k);
      if (!this.series.has(key)) missing.set(key, { d: h.d, k: h.k });
    }
    if (missing.size === 0) return;
    const { rows: ids } = await client.query<{ id: number; device_id: string; key: string }>(UPSERT_SERIES, [documentOf([...missing.values()])]);
    for (const r of ids) found.set(seriesKey(r.device_id, r.key), r.id);
  }
}
