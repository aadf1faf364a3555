import type { Pool } from "pg";
import type { JsonValue } from "../../platform/json.js";
import { badInput } from "../../platform/errors.js";

export interface RawPoint {
  ts: string;
  value: JsonValue;
}

export interface BucketPoint {
  ts: string; // start of the bucket
  avg: number | null;
  min: number | null;
  max: number | null;
  count: number;
}

export interface HistoryQuery {
  deviceId: string;
  key: string;
  from?: Date;
  to?: Date;
  /** At most this many points; the newest are kept when there are more. */
  limit?: number;
}

const BUCKET_RE = /^(\d{1,4})(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_POINTS = 10_000;
const MAX_BUCKETS = 10_000;
/**
 * Bytes of values in one raw answer (JSON text, plus about 40 per point for its time): points of
 * large strings or objects would otherwise make an answer of the same GraphQL cost 100 times larger.
 */
export const MAX_HISTORY_BYTES = 4 * 1024 * 1024;
const POINT_OVERHEAD_BYTES = 40;

/** Parses a bucket width such as `1m`, `15m`, `1h`, `1d` into seconds. */
export function parseBucket(bucket: string): number {
  const match = BUCKET_RE.exec(bucket);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : 0;
  if (!match || seconds < 1 || seconds > 366 * 86_400) {
    throw badInput(`bucket must be a width such as 30s, 1m, 15m, 1h or 1d, got "${bucket}"`);
  }
  return seconds;
}

/**
 * "Key K of device D between T1 and T2", raw or in time buckets. Times are the server's receive
 * times; the range is half-open [from, to). Ownership is the caller's check.
 */
export class HistoryService {
  constructor(private readonly pool: Pool) {}

  async raw(q: HistoryQuery): Promise<RawPoint[]> {
    const { from, to } = rangeOf(q);
    const limit = limitOf(q.limit, MAX_POINTS);
    // The running size is computed by PostgreSQL, and values past the cap are never sent to us.
    const { rows } = await this.pool.query<{ ts: Date; num: number | null; val: JsonValue | null; over: boolean }>(
      `WITH newest AS (
         SELECT ts, num, val, sum(coalesce(octet_length(val::text), 0) + $7) OVER (ORDER BY ts DESC) AS bytes
           FROM telemetry
          WHERE device_id = $1 AND key = $2 AND ts >= $3 AND ts < $4
          ORDER BY ts DESC LIMIT $5)
       SELECT ts, CASE WHEN bytes <= $6 THEN num END AS num, CASE WHEN bytes <= $6 THEN val END AS val, bytes > $6 AS over
         FROM newest ORDER BY ts`,
      [q.deviceId, q.key, from, to, limit, MAX_HISTORY_BYTES, POINT_OVERHEAD_BYTES],
    );
    if (rows.some((r) => r.over)) {
      throw badInput(
        `these ${rows.length} points hold more than ${MAX_HISTORY_BYTES / 1024 / 1024} MiB of values: narrow from/to, lower first, or use a bucket`,
      );
    }
    return rows.map((r) => ({ ts: r.ts.toISOString(), value: r.val ?? r.num }));
  }

  async bucketed(q: HistoryQuery & { bucket: string }): Promise<BucketPoint[]> {
    const { from, to } = rangeOf(q);
    const seconds = parseBucket(q.bucket);
    if ((to.getTime() - from.getTime()) / 1000 / seconds > MAX_BUCKETS) {
      throw badInput(`the range holds more than ${MAX_BUCKETS} buckets of ${q.bucket}; use a wider bucket or a shorter range`);
    }
    const { rows } = await this.pool.query<{ b: Date; avg: number | null; min: number | null; max: number | null; n: string; numeric: string }>(
      `SELECT date_bin(make_interval(secs => $5), ts, timestamptz '2000-01-01 00:00:00+00') AS b,
              avg(num) AS avg, min(num) AS min, max(num) AS max, count(*) AS n, count(num) AS numeric
         FROM telemetry
        WHERE device_id = $1 AND key = $2 AND ts >= $3 AND ts < $4
        GROUP BY b ORDER BY b`,
      [q.deviceId, q.key, from, to, seconds],
    );
    if (rows.some((r) => r.n !== r.numeric)) {
      throw badInput(`key "${q.key}" holds values that are not numbers; ask for raw points instead of buckets`);
    }
    const limit = limitOf(q.limit, MAX_BUCKETS);
    return rows.slice(-limit).map((r) => ({ ts: r.b.toISOString(), avg: r.avg, min: r.min, max: r.max, count: Number(r.n) }));
  }
}

function rangeOf(q: HistoryQuery): { from: Date; to: Date } {
  const to = q.to ?? new Date();
  const from = q.from ?? new Date(to.getTime() - 24 * 3600 * 1000); // default: the last 24 h
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw badInput("from and to must be valid times");
  if (from >= to) throw badInput("from must be before to");
  return { from, to };
}

function limitOf(limit: number | undefined, max: number): number {
  if (limit === undefined) return max;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw badInput(`first must be between 1 and ${max}`);
  return limit;
}
