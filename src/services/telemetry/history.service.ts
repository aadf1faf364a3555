import type { Pool } from "pg";
import type { JsonValue } from "../../platform/json.js";
import { badInput } from "../../platform/errors.js";
import { checkTimeZone, offsetSeconds, offsetsAlignedTo } from "../../platform/time-zones.js";

export interface RawPoint {
  ts: string;
  value: JsonValue;
}

export interface BucketPoint {
  ts: string; // start of the bucket
  avg: number | null;
  min: number | null;
  max: number | null;
  sum: number | null;
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

const BUCKET_RE = /^(\d{1,4})(s|m|h|d|w)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
const DAY_SECONDS = 86_400;
const MAX_POINTS = 10_000;
const MAX_BUCKETS = 10_000;
/**
 * Bytes of values in one raw answer (JSON text, plus about 40 per point for its time): points of
 * large strings or objects would otherwise make an answer of the same GraphQL cost 100 times larger.
 */
export const MAX_HISTORY_BYTES = 4 * 1024 * 1024;
const POINT_OVERHEAD_BYTES = 40;
/** Rollup levels, coarsest first: a bucketed query reads the coarsest one whose buckets fit in its own. */
const LEVELS = [
  { table: "telemetry_1h", seconds: 3600 },
  { table: "telemetry_5m", seconds: 300 },
] as const;
/** Local midnight of a Monday: buckets of whole days and weeks start at local midnight, weeks on Mondays. */
const LOCAL_ORIGIN = "2000-01-03 00:00:00";

/** Parses a bucket width such as `1m`, `15m`, `1h`, `1d`, `1w` into seconds. */
export function parseBucket(bucket: string): number {
  const match = BUCKET_RE.exec(bucket);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : 0;
  if (!match || seconds < 1 || seconds > 366 * 86_400) {
    throw badInput(`bucket must be a width such as 30s, 1m, 15m, 1h, 1d or 1w, got "${bucket}"`);
  }
  return seconds;
}

/** The series of a device's key, as a subquery: history rows name their series, not the device and key. */
const SERIES = `(SELECT id FROM telemetry_series WHERE device_id = $1 AND key = $2)`;

/**
 * "Key K of device D between T1 and T2", raw or in time buckets, over the partitioned history and
 * its rollups. Times are the points' own (the device's, else the server's receive time); the
 * range is half-open [from, to). Ownership is the caller's check.
 */
export class HistoryService {
  constructor(
    private readonly pool: Pool,
    private readonly options: { rollups: boolean } = { rollups: true },
  ) {}

  async raw(q: HistoryQuery): Promise<RawPoint[]> {
    const { from, to } = rangeOf(q);
    const limit = limitOf(q.limit, MAX_POINTS);
    // The running size is computed by PostgreSQL, and values past the cap are never sent to us.
    const { rows } = await this.pool.query<{ ts: Date; num: number | null; val: JsonValue | null; over: boolean }>(
      `WITH newest AS (
         SELECT ts, num, val, sum(coalesce(octet_length(val::text), 0) + $7) OVER (ORDER BY ts DESC) AS bytes
           FROM telemetry_points
          WHERE series_id = ${SERIES} AND ts >= $3 AND ts < $4
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

  /**
   * Numeric statistics per bucket. Buckets of whole days or weeks start at midnight in `timeZone`
   * (so a day is 23 or 25 hours across a DST change); shorter ones are fixed widths aligned to
   * local midnight of 2000-01-03. Whole rollup buckets inside the range come from the rollups, the
   * partial ones at its edges from raw points: the answer equals computing from raw.
   */
  async bucketed(q: HistoryQuery & { bucket: string; timeZone?: string }): Promise<BucketPoint[]> {
    const { from, to } = rangeOf(q);
    const seconds = parseBucket(q.bucket);
    const zone = checkTimeZone(q.timeZone ?? "UTC");
    if ((to.getTime() - from.getTime()) / 1000 / seconds > MAX_BUCKETS) {
      throw badInput(`the range holds more than ${MAX_BUCKETS} buckets of ${q.bucket}; use a wider bucket or a shorter range`);
    }
    const local = seconds % DAY_SECONDS === 0;
    const bin = local
      ? `(date_bin(make_interval(secs => $5), ts AT TIME ZONE $6, timestamp '${LOCAL_ORIGIN}') AT TIME ZONE $6)`
      : `date_bin(make_interval(secs => $5), ts, timestamp '${LOCAL_ORIGIN}' AT TIME ZONE $6)`;
    const level = this.levelFor(seconds, zone, from, to, local);
    // [lo, hi): the whole rollup buckets inside the range; without a level, everything is raw.
    let lo = to;
    let hi = to;
    if (level) {
      const step = level.seconds * 1000;
      lo = new Date(Math.ceil(from.getTime() / step) * step);
      hi = new Date(Math.floor(to.getTime() / step) * step);
      if (lo >= hi) lo = hi = to;
    }
    const rollupRows = level
      ? `SELECT bucket AS ts, n, nn, sum, min, max FROM ${level.table} WHERE series_id = ${SERIES} AND bucket >= $7 AND bucket < $8 UNION ALL`
      : "";
    const raw = (a: string, b: string) =>
      `SELECT ts, 1 AS n, (num IS NOT NULL)::int AS nn, num AS sum, num AS min, num AS max FROM telemetry_points WHERE series_id = ${SERIES} AND ts >= ${a} AND ts < ${b}`;
    const { rows } = await this.pool
      .query<{ b: Date; avg: number | null; min: number | null; max: number | null; sum: number | null; n: string; numeric: string }>(
        `WITH parts AS (${rollupRows} ${raw("$3", "$7")} UNION ALL ${raw("$8", "$4")})
         SELECT ${bin} AS b, sum(sum) / nullif(sum(nn), 0) AS avg, min(min) AS min, max(max) AS max, sum(sum) AS sum, sum(n) AS n, sum(nn) AS numeric
           FROM parts GROUP BY 1 ORDER BY 1`,
        [q.deviceId, q.key, from, to, seconds, zone, lo, hi],
      )
      .catch((error: unknown) => {
        // The zone is one Node knows but this PostgreSQL's tzdata does not.
        if ((error as { code?: string }).code === "22023") throw badInput(`timeZone "${zone}" is not known to the database`);
        throw error;
      });
    if (rows.some((r) => r.n !== r.numeric)) {
      throw badInput(`key "${q.key}" holds values that are not numbers; ask for raw points instead of buckets`);
    }
    const limit = limitOf(q.limit, MAX_BUCKETS);
    return rows.slice(-limit).map((r) => ({ ts: r.b.toISOString(), avg: r.avg, min: r.min, max: r.max, sum: r.sum, count: Number(r.n) }));
  }

  /** The coarsest rollup level whose buckets never straddle an edge of the buckets asked for. */
  private levelFor(seconds: number, zone: string, from: Date, to: Date, local: boolean): (typeof LEVELS)[number] | undefined {
    if (!this.options.rollups) return undefined;
    return LEVELS.find(
      (level) =>
        seconds % level.seconds === 0 &&
        (local
          ? offsetsAlignedTo(zone, from.getTime(), to.getTime(), level.seconds)
          : offsetSeconds(zone, Date.parse(`${LOCAL_ORIGIN.replace(" ", "T")}Z`)) % level.seconds === 0),
    );
  }

  /** Each key of a device with its number of points (from the hourly rollups when they are kept). */
  async pointCounts(deviceId: string): Promise<Map<string, number>> {
    const counts = this.options.rollups
      ? `SELECT s.key, coalesce((SELECT sum(n) FROM telemetry_1h r WHERE r.series_id = s.id), 0) AS n FROM telemetry_series s WHERE s.device_id = $1`
      : `SELECT s.key, (SELECT count(*) FROM telemetry_points p WHERE p.series_id = s.id) AS n FROM telemetry_series s WHERE s.device_id = $1`;
    const { rows } = await this.pool.query<{ key: string; n: string }>(counts, [deviceId]);
    return new Map(rows.map((r) => [r.key, Number(r.n)]));
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
