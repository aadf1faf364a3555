import { AppError, badInput } from "../../platform/errors.js";
import type { TimedValues } from "./device-state.service.js";
import { validateReportData, type ReportLimits } from "./report-validation.js";
import { DAY_MS } from "./device-state.model.js";

/** A device clock may run this far ahead of the server's. */
export const MAX_FUTURE_MS = 5 * 60 * 1000;
/** ISO 8601 with a zone: a time without one would be read in the server's zone, which the device cannot know. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export interface TimeWindow {
  /** Days raw points are kept; 0: forever. A point older than that would be dropped with its partition. */
  readonly rawRetentionDays: number;
}

/**
 * The time a report or record carries (`ts`: epoch milliseconds, or ISO 8601 with a zone), checked
 * against the window history accepts; `fallback` (the server's time) when there is none.
 */
export function reportTimeOf(raw: unknown, now: number, window: TimeWindow, name = "ts"): number {
  if (raw === undefined || raw === null) return now;
  let ts: number;
  if (typeof raw === "number") {
    if (!Number.isFinite(raw) || raw < 0) throw badInput(`${name} must be epoch milliseconds or an ISO 8601 time with a zone`);
    ts = Math.trunc(raw);
  } else if (typeof raw === "string" && ISO_WITH_ZONE.test(raw)) {
    ts = Date.parse(raw);
    if (Number.isNaN(ts) || !sameCalendarDate(raw, ts)) throw badInput(`${name} is not a valid time: ${JSON.stringify(raw.slice(0, 40))}`);
  } else {
    throw badInput(`${name} must be epoch milliseconds or an ISO 8601 time with a zone (such as 2026-12-03T10:00:00Z)`);
  }
  if (ts > now + MAX_FUTURE_MS) throw badInput(`${name} is more than 5 minutes in the future: check the device's clock`);
  if (window.rawRetentionDays > 0 && ts < now - window.rawRetentionDays * DAY_MS) {
    throw badInput(`${name} is older than the ${window.rawRetentionDays} days raw history is kept (HISTORY_RAW_RETENTION_DAYS)`);
  }
  return ts;
}

/** Date.parse rolls 2027-02-30 over to March; a device sending it has a broken clock or encoder. */
function sameCalendarDate(raw: string, ts: number): boolean {
  const [y, m, d] = raw.slice(0, 10).split("-").map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d && Number.isFinite(ts);
}

/** A backfill body's `records`: all valid, or a 400 naming the first bad one by its index. */
export function batchRecordsOf(raw: unknown, now: number, limits: ReportLimits, window: TimeWindow & { readonly maxBatchRecords: number }): TimedValues[] {
  if (!Array.isArray(raw)) throw badInput("records must be an array of {ts, data} objects");
  if (raw.length === 0) throw badInput("records is empty: send at least one record");
  if (raw.length > window.maxBatchRecords) {
    throw badInput(`records holds ${raw.length} records; at most ${window.maxBatchRecords} are accepted per batch (MAX_BATCH_RECORDS)`);
  }
  return raw.map((record: unknown, i) => {
    const name = `records[${i}]`;
    if (typeof record !== "object" || record === null || Array.isArray(record)) throw badInput(`${name} must be an object {ts, data}`);
    const { ts, data } = record as { ts?: unknown; data?: unknown };
    if (ts === undefined || ts === null) throw badInput(`${name}.ts is missing: every backfilled record needs its time`);
    const at = reportTimeOf(ts, now, window, `${name}.ts`);
    try {
      return { ts: at, data: validateReportData(data, limits, `${name}.data`) };
    } catch (error) {
      throw error instanceof AppError && !error.message.startsWith(name) ? badInput(`${name}: ${error.message}`) : error;
    }
  });
}
