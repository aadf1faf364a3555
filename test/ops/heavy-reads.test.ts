import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { useTestServer } from "../helpers/fixture.js";
import { addDevice, gql } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";

/**
 * Charts cannot starve ingest (issue 11, point 7): a dozen heavy history queries at once (raw points
 * only, 300,000 of them per chart) while devices report. Reads run on the history lane
 * (HISTORY_POOL_SIZE connections without parallel workers, platform/db/lanes.ts), so reports keep the main pool; on one
 * shared pool the charts held every connection and reports waited for them (p99 in seconds, 503s).
 */
// The lane sized by the README's rule: each of its connections can keep one database core busy, so
// it gets at most half of them (here the database, the server and the load share the machine's cores).
const LANE = Math.max(1, Math.floor(availableParallelism() / 2));
const t = useTestServer({ HISTORY_ROLLUPS: "off", RATE_LIMIT_MAX: "100000000", HISTORY_POOL_SIZE: String(LANE) });

const POINTS = 300_000;
const CHARTS = 12;
const REPORTERS = 8;
const ROUNDS = 4;
const PHASE_MS = 2500;

const HISTORY = `query ($d: ID!, $from: DateTime!, $to: DateTime!) {
  telemetryHistory(deviceId: $d, key: "temp", from: $from, to: $to, bucket: "1h", aggregate: MAX, timeZone: "UTC") { ts value } }`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** REPORTERS devices report back to back for RUN_MS; each report's latency and status. */
async function reportFor(devices: Array<{ id: string; token: string }>, ms: number): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const until = Date.now() + ms;
  await Promise.all(
    devices.map(async (d, i) => {
      for (let n = 0; Date.now() < until; n++) {
        const started = performance.now();
        const res = await http(t.base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { n, i } } });
        latencies.push(performance.now() - started);
        if (res.status !== 200) failed++;
        await new Promise((r) => setTimeout(r, 20)); // a device reports, then waits a little
      }
    }),
  );
  return { latencies, failed };
}

describe("heavy history reads during ingest", () => {
  it("a dozen raw-point charts over 300,000 points keep report p99 near the quiet figure", { timeout: 180_000 }, async () => {
    const charted = await addDevice(t.base, t.alice, "charted");
    const to = new Date();
    const from = new Date(to.getTime() - (POINTS + 60) * 1000);
    await t.server.services.pool.query(
      `WITH s AS (INSERT INTO telemetry_series (device_id, key) VALUES ($1, 'temp') RETURNING id)
       INSERT INTO telemetry_points (series_id, ts, num) SELECT s.id, $2::timestamptz - make_interval(secs => g), g % 1000 FROM s, generate_series(1, $3) g`,
      [charted.id, to, POINTS],
    );
    await t.server.services.pool.query("ANALYZE telemetry_points");
    const reporters = await Promise.all(Array.from({ length: REPORTERS }, (_, i) => addDevice(t.base, t.alice, `reporter-${i}`)));
    const chart = () => gql(t.base, HISTORY, { d: charted.id, from: from.toISOString(), to: to.toISOString() }, t.alice.accessToken);

    // The chart is right, and heavy: every point is read (rollups are off).
    const one = performance.now();
    const first = await chart();
    const chartMs = performance.now() - one;
    expect(first.errors).toBeUndefined();
    expect(first.data.telemetryHistory.length).toBeGreaterThan(80);
    expect(Math.max(...first.data.telemetryHistory.map((p: { value: number }) => p.value))).toBe(999);

    await reportFor(reporters, 1500); // warm-up: caches, JIT, connections

    // Quiet and loaded phases alternate, so a neighbour's load on the machine falls on both alike.
    const quiet: number[] = [];
    const loaded: number[] = [];
    let failed = 0;
    let charts = 0;
    const chartErrors: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const calm = await reportFor(reporters, PHASE_MS);
      quiet.push(...calm.latencies);
      // Twelve dashboards keep asking for the chart while the devices report.
      let stop = false;
      const load = Promise.all(
        Array.from({ length: CHARTS }, async () => {
          while (!stop) {
            const res = await chart();
            if (res.errors) chartErrors.push(res.errors[0]!.message);
            else charts++;
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 300)); // the charts are running
      const busy = await reportFor(reporters, PHASE_MS);
      loaded.push(...busy.latencies);
      failed += calm.failed + busy.failed;
      stop = true;
      await load;
    }

    const quietP99 = percentile(quiet, 99);
    const loadedP99 = percentile(loaded, 99);
    console.log(
      `lane of ${LANE}; one chart ${chartMs.toFixed(0)} ms; reports quiet p99 ${quietP99.toFixed(1)} ms (n=${quiet.length}), ` +
        `with ${CHARTS} charts p99 ${loadedP99.toFixed(1)} ms (n=${loaded.length}); ${charts} charts answered, ${chartErrors.length} failed`,
    );
    expect(failed).toBe(0);
    expect(chartErrors).toEqual([]);
    expect(charts).toBeGreaterThan(ROUNDS * CHARTS); // the charts ran throughout, not refused
    // The aim is 2x (measured here: 1.7-1.9x on a shared 2-core machine, once 3.04x under a full CI
    // run; on one pool, 11x). The bound is 4x, with a floor for a quiet p99 of a few milliseconds, so
    // a neighbour's burst does not fail it while a shared pool (11x) still does.
    expect(loadedP99).toBeLessThan(Math.max(4 * quietP99, quietP99 + 50));
  });
});
