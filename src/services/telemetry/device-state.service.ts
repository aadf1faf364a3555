import type { Pool } from "pg";
import type { JsonValue } from "../../platform/json.js";
import type { DeviceInfo } from "../devices/device-directory.service.js";
import {
  applyDelivered,
  applyDesired,
  applyReport,
  applyWithdraw,
  countPoints,
  desiredValuesOf,
  hasUndelivered,
  mergedOf,
  type DeviceStateData,
  type Values,
} from "./device-state.model.js";
import { Topic, type EventBus, type StateSnapshot } from "../../platform/event-bus.js";
import { AppError, notFound } from "../../platform/errors.js";
import { StateWriter, type HistoryRow } from "./state-writer.js";
import type { Outbox, OutboxEvent } from "../../platform/db/outbox.js";

/** What a report changed, besides the state: the keys it confirmed, the commands it overrode, the values it made current. */
interface ReportResult {
  confirmed: string[];
  overridden: string[];
  current: Values;
  /** Device time of the newest current value. */
  currentTs: number;
}

/** Values a device measured at `ts` (epoch ms): one report, or one record of a backfill batch. */
export interface TimedValues {
  readonly ts: number;
  readonly data: Values;
}

export interface DeviceStateOptions {
  /** Keep 5-minute and hourly rollups with the raw points. */
  readonly rollups: boolean;
  readonly maxPointsPerDay: number;
}

const pointLimitReached = (limit: number) =>
  new AppError("RATE_LIMITED", `This device stored its ${limit} points of today (MAX_POINTS_PER_DAY); more are accepted after 00:00 UTC`);

export function snapshotOf(state: DeviceStateData): StateSnapshot {
  return {
    deviceId: state.deviceId,
    reported: { ...state.reported },
    desired: desiredValuesOf(state),
    merged: mergedOf(state),
    reportedAt: state.reportedAt === null ? null : new Date(state.reportedAt).toISOString(),
    version: state.version,
  };
}

function historyOf(deviceId: string, data: Values, at: number): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const k in data) {
    const value = data[k]!;
    // Booleans are also kept as 0/1 so a chart of an output pin can aggregate (duty cycle).
    const n = typeof value === "number" ? value : typeof value === "boolean" ? Number(value) : null;
    rows.push({ d: deviceId, k, t: at, n, v: typeof value === "number" ? null : value });
  }
  return rows;
}

/** What a report commits for its side effects (webhooks): the values it made current, the commands it confirmed. */
function durableEventsOf(device: DeviceInfo, state: DeviceStateData, changes: ReportResult): OutboxEvent[] {
  const events: OutboxEvent[] = [];
  const base = { deviceId: device.id, ownerId: device.ownerId };
  if (Object.keys(changes.current).length > 0) {
    events.push({ topic: "telemetry.reported", payload: { ...base, data: changes.current, timestamp: new Date(changes.currentTs).toISOString() } });
  }
  if (changes.confirmed.length > 0) {
    const confirmed = Object.fromEntries(changes.confirmed.map((key) => [key, state.reported[key] ?? null]));
    const timestamp = new Date(state.reportedAt ?? Date.now()).toISOString();
    events.push({ topic: "state.confirmed", payload: { ...base, confirmed, timestamp } });
  }
  return events;
}

/**
 * Reported / desired / merged state of devices (DESIGN.md). Every transport (V2, legacy, GraphQL)
 * goes through these methods.
 */
export class DeviceStateService {
  /** The group-commit writer; owned here so every change goes through the methods below. */
  private readonly writer: StateWriter;

  constructor(
    pool: Pool,
    private readonly bus: EventBus,
    private readonly options: DeviceStateOptions = { rollups: true, maxPointsPerDay: Number.MAX_SAFE_INTEGER },
    outbox?: Outbox,
  ) {
    this.writer = new StateWriter(pool, options, outbox);
  }

  /** Store a report durably; resolves with the state after it (merged is what the device should apply). */
  report(device: DeviceInfo, data: Values, at: number, ts = at): Promise<DeviceStateData> {
    return this.reportRecords(device, [{ ts, data }], at);
  }

  /**
   * Store records (a report, or a backfill batch) in one commit: all of them or none. They apply in
   * time order, and per key the newest time decides the reported state.
   */
  async reportRecords(device: DeviceInfo, records: readonly TimedValues[], at: number): Promise<DeviceStateData> {
    const points = records.reduce((sum, r) => sum + Object.keys(r.data).length, 0);
    const ordered = [...records].sort((a, b) => a.ts - b.ts);
    const { maxPointsPerDay } = this.options;
    const { state, result } = await this.writer.submit<ReportResult>({
      deviceId: device.id,
      run: (before) => {
        let next = countPoints(before, points, at, maxPointsPerDay);
        if (!next) throw pointLimitReached(maxPointsPerDay);
        const changes: ReportResult = { confirmed: [], overridden: [], current: {}, currentTs: 0 };
        const history: HistoryRow[] = [];
        for (const record of ordered) {
          const outcome = applyReport(next, record.data, at, record.ts);
          next = outcome.next;
          changes.confirmed.push(...outcome.confirmed);
          changes.overridden.push(...outcome.overridden);
          for (const key in record.data) if (!outcome.late.includes(key)) changes.current[key] = record.data[key]!;
          if (outcome.late.length < Object.keys(record.data).length) changes.currentTs = record.ts;
          for (const row of historyOf(device.id, record.data, record.ts)) history.push(row);
        }
        return { next, history, outbox: durableEventsOf(device, next, changes), result: changes };
      },
    });
    // Events only after the commit: a subscriber never sees what a crash could still undo. Points
    // that arrived late changed no current value, so they reach history only, not live views.
    if (Object.keys(result.current).length > 0) {
      const timestamp = new Date(result.currentTs).toISOString();
      this.bus.publish(Topic.TelemetryReported, { deviceId: device.id, ownerId: device.ownerId, data: result.current, timestamp });
    }
    this.publishState(device, state, { confirmed: result.confirmed, overridden: result.overridden, commanded: false });
    return state;
  }

  /** Commands for a device: they become desired values the device picks up on its next poll. */
  async setDesired(device: DeviceInfo, values: Record<string, JsonValue>, at = Date.now()): Promise<DeviceStateData> {
    const { state } = await this.writer.submit<null>({
      deviceId: device.id,
      run: (current) => ({ next: applyDesired(current, values, at), result: null }),
    });
    this.publishState(device, state, { confirmed: [], overridden: [], commanded: true });
    return state;
  }

  /**
   * Withdraws pending commands on `keys` (an update offer no longer stands): the merged state loses
   * them, and devices hear of it as of any change. A no-op when none is pending.
   */
  async withdraw(device: DeviceInfo, keys: readonly string[]): Promise<DeviceStateData> {
    const { state, result } = await this.writer.submit<boolean>({
      deviceId: device.id,
      run: (current) => {
        const next = applyWithdraw(current, keys);
        return next ? { next, result: true } : null;
      },
    });
    if (result) this.publishState(device, state, { confirmed: [], overridden: [], commanded: true });
    return state;
  }

  private publishState(device: DeviceInfo, state: DeviceStateData, change: { confirmed: string[]; overridden: string[]; commanded: boolean }): void {
    this.bus.publish(Topic.DeviceStateChanged, { deviceId: state.deviceId, ownerId: device.ownerId, state: snapshotOf(state), ...change });
  }

  getMany(deviceIds: readonly string[]): Promise<Map<string, DeviceStateData>> {
    return this.writer.readMany(deviceIds);
  }

  async get(deviceId: string): Promise<DeviceStateData> {
    const state = await this.writer.read(deviceId);
    if (!state) throw notFound("device");
    return state;
  }

  /**
   * What a polling device receives. Pending commands in the answer count as delivered from now on;
   * that mark is written in the background (a poll costs no write of its own, and most polls carry
   * nothing new). Only the poll delivers: firmware may ignore the data in telemetry responses.
   */
  async poll(device: DeviceInfo, at = Date.now()): Promise<DeviceStateData> {
    const state = await this.get(device.id);
    if (hasUndelivered(state)) {
      this.writer
        .submit<null>({
          deviceId: device.id,
          run: (current) => {
            const next = applyDelivered(current, at);
            return next ? { next, result: null } : null;
          },
        })
        .catch(() => undefined); // if the mark is lost, a differing report counts as stale: the command stays pending
    }
    return state;
  }

  /**
   * A device acknowledged a state message of `version` (an MQTT PUBACK): the commands it carried
   * count as delivered, the ones given after it do not.
   */
  async delivered(device: DeviceInfo, version: number, at = Date.now()): Promise<void> {
    await this.writer.submit<null>({
      deviceId: device.id,
      run: (current) => {
        const next = applyDelivered(current, at, version);
        return next ? { next, result: null } : null;
      },
    });
  }

  forget(deviceId: string): void {
    this.writer.forget(deviceId);
  }

  /** Events were lost: every cached state is read again from the database. */
  forgetAll(): void {
    this.writer.forgetAll();
  }
}
