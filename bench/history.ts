/**
 * Issue 14's table: history that lasts. A generator writes BENCH_HISTORY_POINTS points (default 10
 * million: 1,000 devices x 10 keys over a year) into a scratch database, once into the partitioned
 * history with its rollups and once into an unpartitioned table of the old layout (the baseline
 * in the same run); then chart queries on both, a month dropped vs deleted, V2 ingest with rollups
 * on vs off, and bytes on disk per point. Run: `BENCH_ONLY=history npm run bench`.
 */
import { performance } from "node:perf_hooks";
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { HistoryService } from "../src/services/telemetry/history.service.js";
import { coverClosedMonths } from "../src/services/telemetry/history-maintenance.js";
import { load, percentile, scratchDatabase, seconds, startServer, table, type Row } from "./lib.js";

const POINTS = Number(process.env.BENCH_HISTORY_POINTS ?? 10_000_000);
const DEVICES = 1000;
const KEYS = 10;
const RUNS = Number(process.env.BENCH_HISTORY_RUNS ?? 100);
const YEAR_MS = 365 * 86_400_000;

async function timed(name: string, runs: number, fn: (i: number) => Promise<unknown>, note?: string): Promise<Row> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  return { scenario: name, rps: 1000 / (times.reduce((a, b) => a + b, 0) / runs), p50: percentile(times, 50), p99: percentile(times, 99), errors: 0, note };
}

async function devices(client: pg.Client, count: number): Promise<Array<{ id: string; token: string }>> {
  const owner = (await client.query(`INSERT INTO users (email, username) VALUES ('bench@example.com', 'bench') RETURNING id`)).rows[0].id;
  const out: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < count; i++) {
    const token = randomBytes(32).toString("base64url");
    const hash = createHash("sha256").update(token).digest("hex");
    const id = (await client.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`, [owner, `d${i}`, hash])).rows[0].id;
    await client.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
    out.push({ id, token });
  }
  return out;
}

async function bytesPerPoint(client: pg.Client, tables: string[], points: number): Promise<number> {
  let bytes = 0;
  for (const t of tables) {
    const { rows } = await client.query<{ b: string }>(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS b FROM pg_class c
        WHERE c.oid = $1::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)`,
      [t],
    );
    bytes += Number(rows[0]!.b);
  }
  return bytes / points;
}

async function generated(): Promise<Row[]> {
  const db = await scratchDatabase();
  const server = await startServer(db.url); // runs the migrations, then leaves the database to us
  await server.stop();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const rows: Row[] = [];
  try {
    await devices(client, DEVICES);
    const now = Date.now();
    const perSeries = Math.floor(POINTS / (DEVICES * KEYS));
    const step = YEAR_MS / perSeries;
    const start = performance.now();
    await client.query(`SELECT telemetry_ensure_partition(t, m::date) FROM unnest(ARRAY['telemetry_points', 'telemetry_5m', 'telemetry_1h']::regclass[]) t,
      generate_series(date_trunc('month', now() - interval '1 year'), now(), interval '1 month') m`);
    await client.query(`INSERT INTO telemetry_series (device_id, key) SELECT d.id, 'k' || k FROM devices d, generate_series(0, ${KEYS - 1}) k ORDER BY 1, 2`);
    // Points in time order across series, as devices send them.
    await client.query(
      `INSERT INTO telemetry_points (ts, num, series_id)
       SELECT to_timestamp(($1::float8 - $2::float8 * (${perSeries} - i)) / 1000), sin(i / 10.0 + s.id) * 50 + 20, s.id
         FROM generate_series(1, ${perSeries}) i, telemetry_series s ORDER BY i, s.id`,
      [now, step],
    );
    for (const [t, width] of [
      ["telemetry_5m", "5 minutes"],
      ["telemetry_1h", "1 hour"],
    ]) {
      await client.query(`INSERT INTO ${t} (bucket, series_id, n, nn, sum, min, max, first, last, first_ts, last_ts)
        SELECT date_bin('${width}', ts, timestamptz '2000-01-01 00:00:00+00'), series_id, count(*), count(num), sum(num), min(num), max(num),
               (array_agg(num ORDER BY ts))[1], (array_agg(num ORDER BY ts DESC))[1], min(ts), max(ts)
          FROM telemetry_points GROUP BY 1, 2`);
    }
    // The baseline: the old layout, one table, (device_id, key, ts) index, same rows in the same order.
    await client.query(`CREATE TABLE flat (device_id uuid NOT NULL, key text NOT NULL, ts timestamptz NOT NULL, num double precision, val jsonb)`);
    await client.query(`CREATE INDEX flat_device_key_ts ON flat (device_id, key, ts)`);
    await client.query(
      `INSERT INTO flat SELECT s.device_id, s.key, p.ts, p.num, p.val FROM telemetry_points p JOIN telemetry_series s ON s.id = p.series_id ORDER BY p.ts, s.id`,
    );
    await client.query(`VACUUM ANALYZE`);
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await coverClosedMonths(pool); // what the maintenance job does for months that have ended
    // The load's own aftermath (dirty pages, autovacuum) is not the queries' cost: flush it first.
    await client.query(`CHECKPOINT`);
    const total = perSeries * DEVICES * KEYS;
    console.log(`generated ${total.toLocaleString("en-US")} points twice in ${((performance.now() - start) / 1000).toFixed(0)} s`);

    const history = new HistoryService(pool);
    const series = (await client.query<{ device_id: string; key: string }>(`SELECT device_id, key FROM telemetry_series ORDER BY random() LIMIT ${RUNS}`)).rows;
    const pick = (i: number) => series[i % series.length]!;
    const year = { from: new Date(now - YEAR_MS), to: new Date(now) };
    const month = { from: new Date(now - 30 * 86_400_000), to: new Date(now) };
    const flatBuckets = (width: string, from: Date, to: Date) => (i: number) =>
      pool.query(
        `SELECT date_bin('${width}', ts, timestamptz '2000-01-01') b, avg(num), min(num), max(num), count(*) FROM flat
          WHERE device_id = $1 AND key = $2 AND ts >= $3 AND ts < $4 GROUP BY 1 ORDER BY 1`,
        [pick(i).device_id, pick(i).key, from, to],
      );
    rows.push(
      await timed("one key, one year, 1d buckets (rollups)", RUNS, (i) =>
        history.bucketed({ deviceId: pick(i).device_id, key: pick(i).key, ...year, bucket: "1d" }),
      ),
    );
    rows.push(await timed("  same, unpartitioned raw table (baseline)", RUNS, flatBuckets("1 day", year.from, year.to)));
    rows.push(
      await timed("one key, 30 days, 1h buckets (rollups)", RUNS, (i) =>
        history.bucketed({ deviceId: pick(i).device_id, key: pick(i).key, ...month, bucket: "1h" }),
      ),
    );
    rows.push(await timed("  same, unpartitioned raw table (baseline)", RUNS, flatBuckets("1 hour", month.from, month.to)));
    rows.push(
      await timed("newest 1,000 raw points of a key", RUNS, (i) => history.raw({ deviceId: pick(i).device_id, key: pick(i).key, ...year, limit: 1000 })),
    );
    rows.push(
      await timed("  same, unpartitioned raw table (baseline)", RUNS, (i) =>
        pool.query(`SELECT ts, num, val FROM flat WHERE device_id = $1 AND key = $2 AND ts >= $3 AND ts < $4 ORDER BY ts DESC LIMIT 1000`, [
          pick(i).device_id,
          pick(i).key,
          year.from,
          year.to,
        ]),
      ),
    );
    const raw = await bytesPerPoint(client, ["telemetry_points"], total);
    const withRollups = await bytesPerPoint(client, ["telemetry_points", "telemetry_5m", "telemetry_1h", "telemetry_series"], total);
    const flat = await bytesPerPoint(client, ["flat"], total);
    rows.push({ scenario: "bytes per point: raw partitions, index included", note: `${raw.toFixed(1)} B (old layout, same rows: ${flat.toFixed(1)} B)` });
    rows.push({ scenario: "bytes per point: raw + 5m + 1h rollups + series", note: `${withRollups.toFixed(1)} B` });

    // A month past retention: one partition dropped, against deleting the same rows from the flat table.
    const oldest = (
      await client.query<{ name: string; lo: Date; hi: Date }>(`
      SELECT c.relname AS name, min(p.ts) AS lo, max(p.ts) AS hi FROM telemetry_points p JOIN pg_class c ON c.oid = p.tableoid
       WHERE c.relname ~ '_y' GROUP BY 1 ORDER BY 2 LIMIT 1 OFFSET 1`)
    ).rows[0]!;
    const count = Number((await client.query(`SELECT count(*) AS n FROM ${oldest.name}`)).rows[0].n);
    let start2 = performance.now();
    await client.query(`DROP TABLE ${oldest.name}`);
    const dropMs = performance.now() - start2;
    start2 = performance.now();
    await client.query(`DELETE FROM flat WHERE ts >= $1 AND ts <= $2`, [oldest.lo, oldest.hi]);
    const deleteMs = performance.now() - start2;
    rows.push({
      scenario: `drop a month past retention (${count.toLocaleString("en-US")} points)`,
      p50: dropMs,
      note: `DELETE of the same rows: ${deleteMs.toFixed(0)} ms`,
    });
    await pool.end();
    return rows;
  } finally {
    await client.end();
    await db.drop();
  }
}

/** V2 ingest with the rollups maintained at ingest, against the same server with them off. */
async function ingest(rollups: "on" | "off"): Promise<{ row: Row; bytes: number }> {
  const db = await scratchDatabase();
  const server = await startServer(db.url, { HISTORY_ROLLUPS: rollups });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const list = await devices(client, 500);
    let next = 0;
    const row = await load(`V2 ingest, 5 keys, 500 devices, rollups ${rollups}`, server.url, [
      {
        method: "POST",
        setupRequest: (req) => {
          const d = list[next++ % list.length]!;
          const data = `{"v0":${next & 1},"temperature":${20 + (next % 100) / 10},"humidity":55,"battery":${next % 100},"rssi":-60}`;
          return {
            ...req,
            path: `/devices/${d.id}/telemetry`,
            headers: { "content-type": "application/json" },
            body: `{"device_token":"${d.token}","data":${data}}`,
          };
        },
      },
    ]);
    const stored = Number((await client.query(`SELECT count(*) AS n FROM telemetry_points`)).rows[0].n);
    const tables = rollups === "on" ? ["telemetry_points", "telemetry_5m", "telemetry_1h", "telemetry_series"] : ["telemetry_points", "telemetry_series"];
    return { row, bytes: await bytesPerPoint(client, tables, stored) };
  } finally {
    await client.end();
    await server.stop();
    await db.drop();
  }
}

// BENCH_HISTORY_POINTS=0 runs the ingest comparison alone.
if (POINTS > 0) table(`History: ${POINTS.toLocaleString("en-US")} points generated, ${RUNS} queries per row (one client, sequential)`, await generated());
const off = await ingest("off");
const on = await ingest("on");
on.row.note = `${((on.row.rps! / off.row.rps!) * 100).toFixed(0)}% of rollups off; ${on.bytes.toFixed(1)} B per point as ingested (raw only: ${off.bytes.toFixed(1)} B)`;
table(`Ingest with rollups (100 connections, ${seconds} s)`, [off.row, on.row], off.row.rps);
