import { describe, expect, it } from "vitest";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { addDevice, codeOf, gql } from "../helpers/graphql.js";
import { HistoryService, type BucketPoint } from "../../src/services/telemetry/history.service.js";
import { monthOf } from "../../src/services/telemetry/history-maintenance.js";

/** Partitioned history, rollups equal to raw, local-time buckets across DST, retention by whole partitions. */
const t = useTestServer({ RATE_LIMIT_MAX: "100000" });
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function deviceInfo(name: string) {
  const d = await addDevice(t.base, t.alice, name);
  return (await t.server.services.directory.findById(d.id))!;
}

function expectSameBuckets(rolled: BucketPoint[], raw: BucketPoint[], label: string): void {
  expect(
    rolled.map((b) => [b.ts, b.count, b.min, b.max]),
    label,
  ).toEqual(raw.map((b) => [b.ts, b.count, b.min, b.max]));
  rolled.forEach((b, i) => {
    expect(b.avg! - raw[i]!.avg!, `${label} avg at ${b.ts}`).toBeCloseTo(0, 9);
    expect(b.sum! - raw[i]!.sum!, `${label} sum at ${b.ts}`).toBeCloseTo(0, 6);
  });
}

describe("rollups", () => {
  it("answer exactly what raw points answer, on random data with late points, for every bucket and zone", async () => {
    const device = await deviceInfo("random");
    const next = random(20261203);
    const start = Date.now() - 12 * DAY;
    const record = () => ({ ts: Math.floor(start + next() * 10 * DAY), data: { v: Math.round((next() * 200 - 100) * 1000) / 1000 } });
    for (let chunk = 0; chunk < 6; chunk++) {
      await t.server.services.state.reportRecords(device, Array.from({ length: 500 }, record), Date.now());
    }
    const rawOnly = new HistoryService(t.server.services.pool, { rollups: false });
    const compare = async () => {
      // Edges not aligned to any rollup bucket: those parts come from raw points.
      const from = new Date(start + 17 * 60_000 + 13_000);
      const to = new Date(start + 10 * DAY - 7 * 60_000);
      for (const [bucket, timeZone] of [
        ["1h", "UTC"],
        ["2h", "UTC"],
        ["15m", "UTC"],
        ["7m", "UTC"],
        ["1d", "UTC"],
        ["1d", "Europe/Berlin"],
        ["1w", "Europe/Berlin"],
        ["1d", "Asia/Kolkata"],
        ["1h", "Asia/Kathmandu"],
        ["1d", "America/St_Johns"],
      ] as const) {
        const q = { deviceId: device.id, key: "v", from, to, bucket, timeZone };
        expectSameBuckets(await t.server.services.history.bucketed(q), await rawOnly.bucketed(q), `${bucket} ${timeZone}`);
      }
    };
    await compare();
    const { rows } = await t.server.services.pool.query(
      `SELECT (SELECT sum(n) FROM telemetry_1h r JOIN telemetry_series s ON s.id = r.series_id WHERE s.device_id = $1)::int AS hourly,
              (SELECT sum(n) FROM telemetry_5m r JOIN telemetry_series s ON s.id = r.series_id WHERE s.device_id = $1)::int AS fine`,
      [device.id],
    );
    expect(rows[0]).toEqual({ hourly: 3000, fine: 3000 });
    // Late points into buckets that already hold rollups: the buckets change exactly as raw does.
    await t.server.services.state.reportRecords(device, Array.from({ length: 300 }, record), Date.now());
    await compare();
  });

  it("keys that hold non-numbers are refused for buckets, as before", async () => {
    const device = await deviceInfo("words");
    await t.server.services.state.reportRecords(device, [{ ts: Date.now() - HOUR, data: { mode: "hot" } }], Date.now());
    await expect(t.server.services.history.bucketed({ deviceId: device.id, key: "mode", bucket: "1h" })).rejects.toThrow(/not numbers/);
  });
});

describe("time zones", () => {
  const Q = `query ($d: ID!, $from: DateTime, $to: DateTime, $bucket: String, $tz: String) {
    telemetryHistory(deviceId: $d, key: "h", from: $from, to: $to, bucket: $bucket, aggregate: COUNT, timeZone: $tz) { ts value } }`;

  it("1d buckets start at local midnight across both DST changes of 2026 (23- and 25-hour days), 1w on Mondays", async () => {
    const device = await deviceInfo("dst");
    const hourly = (from: string, hours: number) => Array.from({ length: hours }, (_, i) => ({ ts: Date.parse(from) + i * HOUR, data: { h: i } }));
    // Older than raw retention, stored directly: such strays live in the default partition.
    await t.server.services.state.reportRecords(device, [...hourly("2026-03-27T00:00:00Z", 5 * 24), ...hourly("2026-10-23T00:00:00Z", 5 * 24)], Date.now());
    const march = await gql(
      t.base,
      Q,
      { d: device.id, from: "2026-03-28T00:00:00+01:00", to: "2026-03-31T00:00:00+02:00", bucket: "1d", tz: "Europe/Berlin" },
      t.alice.accessToken,
    );
    expect(march.data.telemetryHistory).toEqual([
      { ts: "2026-03-27T23:00:00.000Z", value: 24 },
      { ts: "2026-03-28T23:00:00.000Z", value: 23 }, // Sunday 29 March: clocks go forward
      { ts: "2026-03-29T22:00:00.000Z", value: 24 },
    ]);
    const october = await gql(
      t.base,
      Q,
      { d: device.id, from: "2026-10-24T00:00:00+02:00", to: "2026-10-27T00:00:00+01:00", bucket: "1d", tz: "Europe/Berlin" },
      t.alice.accessToken,
    );
    expect(october.data.telemetryHistory).toEqual([
      { ts: "2026-10-23T22:00:00.000Z", value: 24 },
      { ts: "2026-10-24T22:00:00.000Z", value: 25 }, // Sunday 25 October: clocks go back
      { ts: "2026-10-25T23:00:00.000Z", value: 24 },
    ]);
    const weeks = await gql(
      t.base,
      Q,
      { d: device.id, from: "2026-03-20T00:00:00Z", to: "2026-04-05T00:00:00Z", bucket: "1w", tz: "Europe/Berlin" },
      t.alice.accessToken,
    );
    // Monday 23 March, 00:00 CET; Monday 30 March, 00:00 CEST.
    expect(weeks.data.telemetryHistory).toEqual([
      { ts: "2026-03-22T23:00:00.000Z", value: 70 }, // points from 27 March 00:00Z to 29 March 21:00Z
      { ts: "2026-03-29T22:00:00.000Z", value: 50 }, // the rest of the 120 hours
    ]);
  });

  it("defaults to the user's timeZone, then UTC; refuses names that are no zone", async () => {
    const device = await deviceInfo("zoned");
    await t.server.services.state.reportRecords(device, [{ ts: Date.parse("2026-11-30T23:30:00Z"), data: { h: 1 } }], Date.now());
    const vars = { d: device.id, from: "2026-11-29T00:00:00Z", to: "2026-12-02T00:00:00Z", bucket: "1d" };
    expect((await gql(t.base, Q, vars, t.alice.accessToken)).data.telemetryHistory).toEqual([{ ts: "2026-11-30T00:00:00.000Z", value: 1 }]);
    const set = await gql(t.base, `mutation { updateMe(input: { timeZone: "Europe/Berlin" }) { timeZone } }`, {}, t.alice.accessToken);
    expect(set.data.updateMe.timeZone).toBe("Europe/Berlin");
    expect((await gql(t.base, Q, vars, t.alice.accessToken)).data.telemetryHistory).toEqual([{ ts: "2026-11-30T23:00:00.000Z", value: 1 }]);
    expect(codeOf(await gql(t.base, Q, { ...vars, tz: "Mars/Olympus" }, t.alice.accessToken))).toBe("BAD_USER_INPUT");
    expect(codeOf(await gql(t.base, `mutation { updateMe(input: { timeZone: "CET+1" }) { timeZone } }`, {}, t.alice.accessToken))).toBe("BAD_USER_INPUT");
    await gql(t.base, `mutation { updateMe(input: { timeZone: "" }) { timeZone } }`, {}, t.alice.accessToken);
  });
});

describe("partitions and retention", () => {
  const partitionsOf = async (table: string) =>
    (
      await t.server.services.pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
        [table],
      )
    ).rows.map((r) => r.name);

  it("a point lands in its month's partition; the months ahead exist", async () => {
    const device = await deviceInfo("partitioned");
    await t.server.services.state.report(device, { p: 1 }, Date.now());
    const { rows } = await t.server.services.pool.query(
      `SELECT p.tableoid::regclass::text AS part FROM telemetry_points p JOIN telemetry_series s ON s.id = p.series_id WHERE s.device_id = $1`,
      [device.id],
    );
    const suffix = (offset: number) => `y${monthOf(Date.now(), offset).slice(0, 4)}m${monthOf(Date.now(), offset).slice(5, 7)}`;
    expect(rows).toEqual([{ part: `telemetry_points_${suffix(0)}` }]);
    for (const table of ["telemetry_points", "telemetry_5m", "telemetry_1h"]) {
      expect(await partitionsOf(table)).toEqual(expect.arrayContaining([`${table}_default`, `${table}_${suffix(1)}`, `${table}_${suffix(2)}`]));
    }
  });

  it("drops whole partitions once past each level's retention, and keeps the rest", async () => {
    const { pool, historyMaintenance } = t.server.services;
    for (const table of ["telemetry_points", "telemetry_5m", "telemetry_1h"]) await pool.query(`SELECT telemetry_ensure_partition($1, '2025-06-01')`, [table]);
    const device = await deviceInfo("old");
    // June 2025 moves from the default partition into its own, created above.
    await t.server.services.state.reportRecords(device, [{ ts: Date.parse("2025-06-10T12:00:00Z"), data: { o: 1 } }], Date.now());
    const report = await historyMaintenance.run();
    expect(report.dropped).toContain("telemetry_points_y2025m06");
    expect(report.dropped).not.toContain("telemetry_5m_y2025m06"); // 730 days
    expect(report.dropped).not.toContain("telemetry_1h_y2025m06"); // forever
    // Ended months of the rollups get their covering index (index-only chart scans); the current one does not.
    expect(report.covered).toEqual(expect.arrayContaining(["telemetry_5m_y2025m06", "telemetry_1h_y2025m06"]));
    expect(report.covered).not.toContain(`telemetry_1h_y${monthOf(Date.now()).slice(0, 4)}m${monthOf(Date.now()).slice(5, 7)}`);
    expect((await pool.query(`SELECT to_regclass('telemetry_1h_y2025m06_covering') AS i`)).rows[0].i).toBe("telemetry_1h_y2025m06_covering");
    expect(await partitionsOf("telemetry_points")).not.toContain("telemetry_points_y2025m06");
    const left = await pool.query(
      `SELECT (SELECT count(*) FROM telemetry_5m r JOIN telemetry_series s ON s.id = r.series_id WHERE s.device_id = $1)::int AS fine,
              (SELECT count(*) FROM telemetry_points p JOIN telemetry_series s ON s.id = p.series_id WHERE s.device_id = $1)::int AS raw`,
      [device.id],
    );
    expect(left.rows[0]).toEqual({ fine: 1, raw: 0 });
    // The month of today is untouched.
    expect(await partitionsOf("telemetry_points")).toContain(`telemetry_points_y${monthOf(Date.now()).slice(0, 4)}m${monthOf(Date.now()).slice(5, 7)}`);
  });

  it("a failed run tells the admins and is retried until it succeeds", async () => {
    const { pool, jobs } = t.server.services;
    const ahead = `telemetry_1h_y${monthOf(Date.now(), 2).slice(0, 4)}m${monthOf(Date.now(), 2).slice(5, 7)}`;
    await pool.query(`DROP TABLE ${ahead}`);
    const blocker = await pool.connect();
    try {
      await blocker.query(`BEGIN; LOCK TABLE telemetry_1h IN ACCESS EXCLUSIVE MODE`);
      await jobs.add("history.maintain", {}, { jobKey: "history.maintain", runAt: new Date() });
      await eventually(
        "a maintenance_failed notification",
        async () => (await pool.query(`SELECT 1 FROM notifications WHERE type = 'maintenance_failed'`)).rowCount,
        30_000,
      );
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
    }
    await eventually("the partition made again by the retry", async () => (await pool.query(`SELECT to_regclass($1) AS r`, [ahead])).rows[0].r, 60_000);
  }, 120_000);
});
