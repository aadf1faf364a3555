import type { DesiredEntry, JsonValue } from "../../entities/device-state.entity.js";

/**
 * The device-state rules of DESIGN.md as pure functions over immutable values, so the same code
 * decides in every process and a batch can be recomputed after a conflict.
 */
export interface DeviceStateData {
  readonly deviceId: string;
  readonly reported: Readonly<Record<string, JsonValue>>;
  readonly reportedTs: Readonly<Record<string, number>>;
  readonly reportedAt: number | null;
  readonly desired: Readonly<Record<string, DesiredEntry>>;
  readonly version: number;
  /** The UTC day (days since the epoch) `pointsToday` counts, for MAX_POINTS_PER_DAY. */
  readonly pointsDay: number;
  readonly pointsToday: number;
}

export type Values = Record<string, JsonValue>;

/** Firmware reports pins as 0/1 while the app may say true/false: both mean the same output level. */
export function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a === "boolean" && typeof b === "number") return Number(a) === b;
  if (typeof a === "number" && typeof b === "boolean") return a === Number(b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => k in b && sameValue((a as Record<string, JsonValue>)[k]!, (b as Record<string, JsonValue>)[k]!));
}

/** What the device should hold: reported values with pending commands laid over them. */
export function mergedOf(state: DeviceStateData): Values {
  const merged: Values = { ...state.reported };
  for (const key in state.desired) merged[key] = state.desired[key]!.value;
  return merged;
}

export function desiredValuesOf(state: DeviceStateData): Values {
  const values: Values = {};
  for (const key in state.desired) values[key] = state.desired[key]!.value;
  return values;
}

export function emptyState(deviceId: string): DeviceStateData {
  return { deviceId, reported: {}, reportedTs: {}, reportedAt: null, desired: {}, version: 0, pointsDay: 0, pointsToday: 0 };
}

export interface ReportOutcome {
  next: DeviceStateData;
  confirmed: string[];
  overridden: string[];
  /** Keys whose point was older than the reported one: history only. */
  late: string[];
}

/**
 * A report from the device, of values measured at `ts` (the device's time when it sent one, else
 * the server's `now`). Per key the newest time wins: a point older than the reported one goes to
 * history only. For a key with a pending command: the same value confirms it; a different value
 * before the command was delivered is stale (the device had not seen it yet) and leaves it
 * pending; a different value after delivery is the device's own change and wins.
 */
export function applyReport(state: DeviceStateData, data: Values, now: number, ts = now): ReportOutcome {
  const reported: Values = { ...state.reported };
  const reportedTs: Record<string, number> = { ...state.reportedTs };
  let desired: Record<string, DesiredEntry> | undefined;
  const confirmed: string[] = [];
  const overridden: string[] = [];
  const late: string[] = [];
  for (const key in data) {
    if (Object.hasOwn(reportedTs, key) && reportedTs[key]! > ts) {
      late.push(key); // a newer value is already reported
      continue;
    }
    const value = data[key]!;
    reported[key] = value;
    reportedTs[key] = ts;
    // Own keys only: a device reporting "toString" or "constructor" has no pending command for it.
    const pending = Object.hasOwn(state.desired, key) ? state.desired[key] : undefined;
    if (!pending) continue;
    if (sameValue(value, pending.value)) confirmed.push(key);
    else if (pending.deliveredAt !== null) overridden.push(key);
    else continue; // stale: keep the command pending
    desired ??= { ...state.desired };
    delete desired[key];
  }
  return {
    next: { ...state, reported, reportedTs, reportedAt: now, desired: desired ?? state.desired, version: state.version + 1 },
    confirmed,
    overridden,
    late,
  };
}

export const DAY_MS = 86_400_000;

/** The state with `points` more counted on the UTC day of `now`; null when that passes `limit`. */
export function countPoints(state: DeviceStateData, points: number, now: number, limit: number): DeviceStateData | null {
  const day = Math.floor(now / DAY_MS);
  const today = (state.pointsDay === day ? state.pointsToday : 0) + points;
  return today > limit ? null : { ...state, pointsDay: day, pointsToday: today };
}

/** A command from the app. A later command on the same key replaces the earlier one. */
export function applyDesired(state: DeviceStateData, values: Values, now: number): DeviceStateData {
  const version = state.version + 1;
  const desired: Record<string, DesiredEntry> = { ...state.desired };
  for (const key in values) desired[key] = { value: values[key]!, version, setAt: now, deliveredAt: null };
  return { ...state, desired, version };
}

/** Pending commands on `keys` are dropped (an offer withdrawn); null when none of them is pending. */
export function applyWithdraw(state: DeviceStateData, keys: readonly string[]): DeviceStateData | null {
  if (!keys.some((key) => Object.hasOwn(state.desired, key))) return null;
  const desired: Record<string, DesiredEntry> = { ...state.desired };
  for (const key of keys) delete desired[key];
  return { ...state, desired, version: state.version + 1 };
}

export function hasUndelivered(state: DeviceStateData): boolean {
  for (const key in state.desired) if (state.desired[key]!.deliveredAt === null) return true;
  return false;
}

/**
 * The device fetched the merged state: every pending command in it has now been delivered. With
 * `upToVersion` (a state message the device acknowledged), only the commands that message carried.
 */
export function applyDelivered(state: DeviceStateData, now: number, upToVersion = Number.POSITIVE_INFINITY): DeviceStateData | null {
  let changed = false;
  const desired: Record<string, DesiredEntry> = {};
  for (const key in state.desired) {
    const entry = state.desired[key]!;
    const deliver = entry.deliveredAt === null && entry.version <= upToVersion;
    changed ||= deliver;
    desired[key] = deliver ? { ...entry, deliveredAt: now } : entry;
  }
  if (!changed) return null;
  return { ...state, desired, version: state.version + 1 };
}
