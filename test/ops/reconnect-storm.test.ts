import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/platform/db/embedded.js";
import { hashToken } from "../../src/platform/secrets.js";
import { eventually } from "../helpers/fixture.js";
import { createTestDatabase } from "../helpers/server.js";

/**
 * A reconnecting fleet is let in (issue 11, point 9): 2,000 devices whose server just started (an
 * empty device cache, as after a restart or a power cut) all connect and report at the same instant.
 * The server is `src/main.ts` in its own process, as in production; the devices are plain HTTP
 * clients in this one, each on its own connection. Before the fix the door refused them: Node's
 * listen queue of 511 overflowed (resets, SYN retries) and 2,000 token look-ups, one query and one
 * pool connection each, queued past the pool's 2 s wait and were answered 503.
 */
const DEVICES = 2000;
const REPORTS = 3; // per device: the first at the storm's instant, then one a second on the same connection

let db: { url: string; drop(): Promise<void> };
let child: ChildProcess;
let base: URL;
const fleet: Array<{ id: string; token: string }> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const port = await freePort();
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: "",
      PORT: String(port),
      HOST: "127.0.0.1",
      MQTT_PORT: "off",
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
      RATE_LIMIT_MAX: "100000000",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  base = new URL(`http://127.0.0.1:${port}`);
  await eventually(
    "the server to answer /health",
    () =>
      child.exitCode === null &&
      fetch(new URL("/health", base)).then(
        (r) => r.ok,
        () => false,
      ),
    90_000,
  );
  // The fleet is written straight into the database: the server has never seen these tokens. Each
  // device was online and seen just before the restart, as when a server restarts under its fleet.
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const { rows: users } = await sql.query<{ id: string }>(`INSERT INTO users (email, username) VALUES ('fleet@example.com', 'fleet') RETURNING id`);
  const tokens = Array.from({ length: DEVICES }, () => randomBytes(24).toString("hex"));
  const { rows } = await sql.query<{ id: string }>(
    `WITH d AS (INSERT INTO devices (owner_id, name, token_hash, status, last_seen_at) SELECT $1, 'esp32-' || i, h, 'online', now() FROM unnest($2::text[]) WITH ORDINALITY AS x(h, i) RETURNING id, token_hash)
     INSERT INTO device_state (device_id) SELECT id FROM d RETURNING device_id AS id`,
    [users[0]!.id, tokens.map(hashToken)],
  );
  const { rows: hashes } = await sql.query<{ id: string; token_hash: string }>(`SELECT id, token_hash FROM devices`);
  await sql.end();
  expect(rows).toHaveLength(DEVICES);
  const idOf = new Map(hashes.map((r) => [r.token_hash, r.id]));
  for (const token of tokens) fleet.push({ id: idOf.get(hashToken(token))!, token });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
  await db?.drop();
});

interface Outcome {
  ms: number;
  status: number | undefined;
  error: string | undefined;
}

/** One report on the device's own connection; an error (reset, refused, timeout) is recorded, not thrown. */
function report(agent: Agent, device: { id: string; token: string }, n: number): Promise<Outcome> {
  const body = JSON.stringify({ device_token: device.token, data: { n } });
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      new URL(`/devices/${device.id}/telemetry`, base),
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 30_000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ ms: performance.now() - started, status: res.statusCode, error: undefined }));
        res.on("error", (error) => resolve({ ms: performance.now() - started, status: res.statusCode, error: error.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ ms: performance.now() - started, status: undefined, error: error.code ?? error.message }));
    req.end(body);
  });
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

describe("a reconnect storm", () => {
  it("2,000 devices connecting and reporting at the same instant: no resets, no errors, p99 within a bound", { timeout: 120_000 }, async () => {
    const started = Date.now();
    const outcomes = await Promise.all(
      fleet.map(async (device) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const mine: Outcome[] = [];
        try {
          for (let n = 0; n < REPORTS; n++) {
            if (n > 0) await new Promise((r) => setTimeout(r, 1000));
            mine.push(await report(agent, device, n));
          }
        } finally {
          agent.destroy();
        }
        return mine;
      }),
    );
    const all = outcomes.flat();
    const first = outcomes.map((mine) => mine[0]!);
    const failures = all.filter((o) => o.error !== undefined || o.status !== 200);
    const byKind = new Map<string, number>();
    for (const f of failures) byKind.set(f.error ?? String(f.status), (byKind.get(f.error ?? String(f.status)) ?? 0) + 1);
    const p99 = percentile(
      all.map((o) => o.ms),
      99,
    );
    const firstP99 = percentile(
      first.map((o) => o.ms),
      99,
    );
    console.log(
      `${DEVICES} devices x ${REPORTS} reports in ${Date.now() - started} ms: first contact p99 ${firstP99.toFixed(0)} ms, all p99 ${p99.toFixed(0)} ms, ` +
        `failures ${JSON.stringify(Object.fromEntries(byKind))}`,
    );
    expect(Object.fromEntries(byKind)).toEqual({});
    // What is left is the queue of a CPU-bound server: 6,000 reports on a 2-core machine shared with the
    // database and the 2,000 clients (measured there: p99 1.5 s, and 10-13 s under a neighbour's load).
    // On one pool with a queue of 511, 548 to 3,747 of the 6,000 were answered 503 and the kernel dropped SYNs.
    expect(firstP99).toBeLessThan(25_000);
    expect(p99).toBeLessThan(25_000);
    // Every report was stored: the newest value of each device is its last report.
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM device_state WHERE reported->>'n' = $1`, [String(REPORTS - 1)]);
    await sql.end();
    expect(rows[0]!.n).toBe(DEVICES);
  });
});
