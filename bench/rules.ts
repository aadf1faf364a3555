/**
 * `npx tsx bench/rules.ts`: V2 ingest with 0 and with 100 rules per device, in one run. The server runs
 * in its own process on the local PostgreSQL (as bench/run.ts); half the devices have no rules, the
 * other half 100 enabled rules each on the keys they report. The two halves are loaded in turns
 * (0, 100, 0, 100, ...) so both see the same database size and machine state. Prints a table; asserts nothing.
 *
 * The rules' conditions are stable under the load (half of them true, already active), which is the
 * steady state: a report costs an evaluation of every rule on its keys, and no database write.
 *
 *   DATABASE_URL  admin URL of the PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SECONDS seconds per round (default 10)
 *   BENCH_CONNECTIONS connections (default 100)
 *   BENCH_DEVICES devices per half (default 250)
 *   BENCH_ROUNDS rounds of each (default 3)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import autocannon from "autocannon";
import pg from "pg";
import { freePort } from "../src/db/embedded.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const perHalf = Number(process.env.BENCH_DEVICES ?? 250);
const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const RULES_PER_DEVICE = 100;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

function load(scenario: string, url: string, request: autocannon.Request, duration = seconds): Promise<Row> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, requests: [request] }, (error, result) => {
      if (error) return reject(error);
      resolve({ scenario, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx });
    });
  });
}

// 20 conditions over the four steady keys of the report, ten true and ten false; each is used five times.
// [key, op, value, holds]: temperature is 20..29.9, humidity 55, v1 0, timestamp a growing counter.
const CONDITIONS: Array<[string, string, number, boolean]> = [
  ["temperature", "GT", 50, false], ["temperature", "LT", 100, true], ["temperature", "GTE", -10, true], ["temperature", "LTE", 0, false],
  ["temperature", "GT", 10, true], ["temperature", "LT", 5, false], ["humidity", "EQ", 55, true], ["humidity", "NEQ", 55, false],
  ["humidity", "GT", 90, false], ["humidity", "LTE", 60, true], ["v1", "EQ", 1, false], ["v1", "NEQ", 1, true],
  ["v1", "GTE", 0, true], ["v1", "GT", 0, false], ["timestamp", "GT", -1, true], ["timestamp", "LT", 0, false],
  ["humidity", "GTE", 55, true], ["v1", "LT", -5, false], ["temperature", "NEQ", 1000, true], ["humidity", "EQ", 1, false],
];

async function main(): Promise<void> {
  const dbName = `thingsnxt_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  let server: ChildProcess | undefined;
  try {
    const port = await freePort();
    server = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, DATABASE_URL: dbUrl.toString(), PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", RATE_LIMIT_MAX: "1000000000", NODE_ENV: "production" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(`${base}/health`, server);

    const db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();
    const owner = (await db.query(`INSERT INTO users (email, username) VALUES ('bench@example.com', 'bench') RETURNING id`)).rows[0].id;
    const half = async (label: string) => {
      const devices: Array<{ id: string; token: string }> = [];
      for (let i = 0; i < perHalf; i++) {
        const token = randomBytes(32).toString("base64url");
        const hash = createHash("sha256").update(token).digest("hex");
        const id = (await db.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`, [owner, `${label}-${i}`, hash])).rows[0].id;
        await db.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
        devices.push({ id, token });
      }
      return devices;
    };
    const bare = await half("bare");
    const ruled = await half("ruled");
    // Straight into the table (the API allows 200 rules per account): already active where the condition holds.
    await db.query(
      `INSERT INTO rules (owner_id, name, device_id, key, op, value, action_type, active)
       SELECT $1, 'bench ' || n, d.id, c.key, c.op, to_jsonb(c.value), 'NOTIFY', c.holds
         FROM unnest($2::uuid[]) AS d(id)
        CROSS JOIN generate_series(0, ${RULES_PER_DEVICE - 1}) AS n
         JOIN jsonb_to_recordset($3::jsonb) AS c(i int, key text, op text, value double precision, holds boolean) ON c.i = n % ${CONDITIONS.length}`,
      [owner, ruled.map((d) => d.id), JSON.stringify(CONDITIONS.map(([key, op, value, holds], i) => ({ i, key, op, value, holds })))],
    );

    let next = 0;
    const v2 = (devices: Array<{ id: string; token: string }>): autocannon.Request => ({
      method: "POST",
      setupRequest: (req) => {
        const d = devices[next++ % devices.length]!;
        const data = JSON.stringify({ v0: next & 1, v1: 0, temperature: 20 + (next % 100) / 10, humidity: 55, timestamp: next });
        return { ...req, path: `/devices/${d.id}/telemetry`, headers: { "content-type": "application/json" }, body: `{"device_token":"${d.token}","data":${data}}` };
      },
    });

    // Warm-up: device caches, and every ruled device's rules loaded once.
    await load("warm-up", base, v2(bare), 3);
    await load("warm-up", base, v2(ruled), 3);
    const rows: Row[] = [];
    for (let round = 1; round <= rounds; round++) {
      rows.push(await load(`V2 ingest, 0 rules per device (round ${round})`, base, v2(bare)));
      rows.push(await load(`V2 ingest, ${RULES_PER_DEVICE} rules per device (round ${round})`, base, v2(ruled)));
    }
    const fired = (await db.query(`SELECT count(*)::int AS n FROM notifications WHERE type IN ('rule_fired', 'rule_suspended')`)).rows[0].n;
    const rules = (await db.query(`SELECT count(*)::int AS n FROM rules`)).rows[0].n;
    await db.end();

    const mean = (match: string) => {
      const picked = rows.filter((r) => r.scenario.includes(match));
      return { rps: picked.reduce((s, r) => s + r.rps, 0) / picked.length, p99: Math.max(...picked.map((r) => r.p99)) };
    };
    const without = mean(", 0 rules");
    const withRules = mean(`, ${RULES_PER_DEVICE} rules`);
    console.log(`\nThingsNXT rules benchmark, ${new Date().toISOString().slice(0, 10)}: ${connections} connections, ${seconds} s per round, ${perHalf} devices per half, ${rules.toLocaleString("en-US")} rules\n`);
    console.log("| scenario | req/s | p50 ms | p99 ms | errors |");
    console.log("|---|---:|---:|---:|---:|");
    for (const r of rows) console.log(`| ${r.scenario} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${r.errors} |`);
    console.log(
      `\nmean req/s: ${Math.round(without.rps).toLocaleString("en-US")} without rules, ${Math.round(withRules.rps).toLocaleString("en-US")} with ${RULES_PER_DEVICE} rules per device ` +
        `(${((withRules.rps / without.rps) * 100).toFixed(0)}%; target at least 80%); worst p99 ${without.p99} ms / ${withRules.p99} ms`,
    );
    console.log(`rules fired during the run: ${fired} (the conditions are steady: evaluation only)`);
  } finally {
    server?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
