/** The StateWriter's statements. */

// One statement per batch, whatever its size: rows travel as one JSON document.
export const UPDATE_STATE = `
  UPDATE device_state s
     SET reported = u.reported, reported_ts = u.reported_ts,
         reported_at = to_timestamp(u.reported_at / 1000.0), desired = u.desired, version = u.version,
         points_day = u.points_day, points_today = u.points_today
    FROM jsonb_to_recordset($1::jsonb)
         AS u(id uuid, reported jsonb, reported_ts jsonb, reported_at double precision, desired jsonb, version int, base int,
              points_day int, points_today int)
   WHERE s.device_id = u.id AND s.version = u.base
RETURNING s.device_id`;

/**
 * Series ids for keys this process has not seen yet. DO UPDATE (not DO NOTHING) so a row another
 * transaction inserted meanwhile is returned too; in key order, so two batches never deadlock.
 */
export const UPSERT_SERIES = `
  INSERT INTO telemetry_series AS s (device_id, key)
  SELECT d, k FROM jsonb_to_recordset($1::jsonb) AS x(d uuid, k text) ORDER BY d, k
  ON CONFLICT (device_id, key) DO UPDATE SET key = excluded.key
  RETURNING s.id, s.device_id, s.key`;

const POINTS = `SELECT s, to_timestamp(t / 1000.0) AS ts, n, v FROM jsonb_to_recordset($1::jsonb) AS x(s int, t double precision, n double precision, v jsonb)`;
const RAW = `INSERT INTO telemetry_points (ts, num, series_id, val) SELECT ts, n, s, v FROM x`;

/** One rollup bucket of a batch, aggregated here rather than by PostgreSQL (the batch is in memory anyway). */
export interface RollupRow {
  s: number; // series
  b: number; // bucket start, epoch ms
  n: number;
  nn: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  f: number | null; // first numeric value, at ft
  ft: number | null;
  l: number | null; // last numeric value, at lt
  lt: number | null;
}

/** A batch's points aggregated into buckets of `widthMs` (aligned to the epoch, as date_bin from 2000-01-01 is). */
export function rollupRows(points: ReadonlyArray<{ s: number; t: number; n: number | null }>, widthMs: number): RollupRow[] {
  const buckets = new Map<string, RollupRow>();
  for (const p of points) {
    const b = Math.floor(p.t / widthMs) * widthMs;
    const key = `${p.s}:${b}`;
    let r = buckets.get(key);
    if (!r) buckets.set(key, (r = { s: p.s, b, n: 0, nn: 0, sum: null, min: null, max: null, f: null, ft: null, l: null, lt: null }));
    r.n++;
    if (p.n === null) continue;
    r.nn++;
    r.sum = (r.sum ?? 0) + p.n;
    r.min = r.min === null ? p.n : Math.min(r.min, p.n);
    r.max = r.max === null ? p.n : Math.max(r.max, p.n);
    if (r.ft === null || p.t < r.ft) [r.f, r.ft] = [p.n, p.t];
    if (r.lt === null || p.t >= r.lt) [r.l, r.lt] = [p.n, p.t];
  }
  return [...buckets.values()];
}

/**
 * A rollup level's upsert of pre-aggregated buckets. Count, sum, min, max, first and last merge
 * exactly, so adding a batch's partial aggregate to a bucket equals computing the bucket from all
 * its points again: late and backfilled points need no recomputation.
 */
function rollup(table: string, param: string): string {
  return `
  INSERT INTO ${table} AS r (bucket, series_id, n, nn, sum, min, max, first, last, first_ts, last_ts)
  SELECT to_timestamp(b / 1000.0), s, n, nn, sum, min, max, f, l, to_timestamp(ft / 1000.0), to_timestamp(lt / 1000.0)
    FROM jsonb_to_recordset(${param}::jsonb)
         AS y(s int, b double precision, n int, nn int, sum double precision, min double precision, max double precision,
              f double precision, ft double precision, l double precision, lt double precision)
  ON CONFLICT (series_id, bucket) DO UPDATE SET
    n = r.n + excluded.n, nn = r.nn + excluded.nn,
    sum = coalesce(r.sum + excluded.sum, r.sum, excluded.sum),
    min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),
    first = CASE WHEN r.first_ts IS NULL OR excluded.first_ts < r.first_ts THEN excluded.first ELSE r.first END,
    first_ts = least(r.first_ts, excluded.first_ts),
    last = CASE WHEN excluded.last_ts IS NOT NULL AND (r.last_ts IS NULL OR excluded.last_ts >= r.last_ts) THEN excluded.last ELSE r.last END,
    last_ts = greatest(r.last_ts, excluded.last_ts)`;
}

/** Raw points ($1), and with `rollups` their 5-minute ($2) and hourly ($3) buckets, in one statement. */
export function insertHistory(rollups: boolean): string {
  if (!rollups) return `WITH x AS (${POINTS}) ${RAW}`;
  return `WITH x AS (${POINTS}), raw AS (${RAW}), r5 AS (${rollup("telemetry_5m", "$2")}) ${rollup("telemetry_1h", "$3")}`;
}
