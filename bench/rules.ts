/**
 * `npx tsx bench/rules.ts`: V2 ingest with 0 and with 100 rules per device, in one run. The server runs
 * in its own process on the local PostgreSQL (as bench/run.ts); half the devices have no rules, the
 * other half 100 enabled rules each on the keys they report. The two halves are loaded in turns
 * (0, 100, 100, 0, 0, 100, ...) so both see the same database size and machine state. Prints a table; asserts nothing.
 *
 * The rules' conditions are stable under the load (half of them true, already active), which is the
 * steady state: no database write. Reports carry temperature and timestamp changing every time and
 * humidity and v1 constant, so a report evaluates the 45 rules on the changing keys (the engine skips
 * a key whose value is the one it last evaluated).
 *
 *   DATABASE_URL  admin URL of the PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SECONDS seconds per round (default 10)
 *   BENCH_CONNECTIONS connections (default 100)
 *   BENCH_DEVICES devices, split in the two halves (default 500)
 *   BENCH_ROUNDS rounds of each (default 4)
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type autocannon from "autocannon";
import pg from "pg";
import { load, scratchDatabase, seconds, startServer, table, type Row } from "./lib.js";

const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const perHalf = Math.max(1, Math.floor(Number(process.env.BENCH_DEVICES ?? 500) / 2));
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const RULES_PER_DEVICE = 100;

// 20 conditions over the four steady keys of the report, ten true and ten false; each is used five times.
// [key, op, value, holds]: temperature is 20..29.9, humidity 55, v1 0, timestamp a growing counter.
const CONDITIONS: Array<[string, string, number, boolean]> = [
  ["temperature", "GT", 50, false],
  ["temperature", "LT", 100, true],
  ["temperature", "GTE", -10, true],
  ["temperature", "LTE", 0, false],
  ["temperature", "GT", 10, true],
  ["temperature", "LT", 5, false],
  ["humidity", "EQ", 55, true],
  ["humidity", "NEQ", 55, false],
  ["humidity", "GT", 90, false],
  ["humidity", "LTE", 60, true],
  ["v1", "EQ", 1, false],
  ["v1", "NEQ", 1, true],
  ["v1", "GTE", 0, true],
  ["v1", "GT", 0, false],
  ["timestamp", "GT", -1, true],
  ["timestamp", "LT", 0, false],
  ["humidity", "GTE", 55, true],
  ["v1", "LT", -5, false],
  ["temperature", "NEQ", 1000, true],
  ["humidity", "EQ", 1, false],
];

/** User + system CPU time of a process so far, in ms (Linux /proc). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
};

async function main(): Promise<void> {
  const scratch = await scratchDatabase();
  const server = await startServer(scratch.url);
  try {
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    const owner = (await db.query(`INSERT INTO users (email, username) VALUES ('bench@example.com', 'bench') RETURNING id`)).rows[0].id;
    const half = async (label: string) => {
      const devices: Array<{ id: string; token: string }> = [];
      for (let i = 0; i < perHalf; i++) {
        const token = randomBytes(32).toString("base64url");
        const hash = createHash("sha256").update(token).digest("hex");
        const id = (await db.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`, [owner, `${label}-${i}`, hash])).rows[0]
          .id;
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
        return {
          ...req,
          path: `/devices/${d.id}/telemetry`,
          headers: { "content-type": "application/json" },
          body: `{"device_token":"${d.token}","data":${data}}`,
        };
      },
    });

    // The server's CPU time per request: steadier than req/s on a machine shared with the load generator.
    const measured = async (scenario: string, request: autocannon.Request): Promise<Row> => {
      const before = await cpuMs(server.child.pid!);
      const row = await load(scenario, server.url, [request], connections);
      const used = (await cpuMs(server.child.pid!)) - before;
      return { ...row, note: `${((used * 1000) / (row.rps! * seconds)).toFixed(0)} µs server CPU per request` };
    };

    // Warm-up: device caches, and every ruled device's rules loaded once.
    await load("warm-up", server.url, [v2(bare)], connections, 3);
    await load("warm-up", server.url, [v2(ruled)], connections, 3);
    const without: Row[] = [];
    const withRules: Row[] = [];
    // In turns, and in alternating order (0 then 100, 100 then 0, ...) so neither half always runs second.
    for (let round = 1; round <= rounds; round++) {
      const zero = () => measured(`V2 ingest, 0 rules per device (round ${round})`, v2(bare));
      const hundred = () => measured(`V2 ingest, ${RULES_PER_DEVICE} rules per device (round ${round})`, v2(ruled));
      if (round % 2 === 1) {
        without.push(await zero());
        withRules.push(await hundred());
      } else {
        withRules.push(await hundred());
        without.push(await zero());
      }
    }
    const fired = (await db.query(`SELECT count(*)::int AS n FROM notifications WHERE type IN ('rule_fired', 'rule_suspended')`)).rows[0].n;
    const rules = (await db.query(`SELECT count(*)::int AS n FROM rules`)).rows[0].n;
    const written = (await db.query(`SELECT n_tup_upd::int AS n FROM pg_stat_user_tables WHERE relname = 'rules'`)).rows[0]?.n ?? 0;
    await db.end();

    const cpuOf = (r: Row) => Number(/^(\d+)/.exec(r.note ?? "")?.[1]);
    const summary = (rows: Row[], scenario: string): Row => ({
      scenario,
      rps: median(rows.map((r) => r.rps!)),
      p50: median(rows.map((r) => r.p50!)),
      p99: median(rows.map((r) => r.p99!)),
      errors: rows.reduce((n, r) => n + r.errors!, 0),
      note: `median of ${rows.length} rounds; ${median(rows.map(cpuOf)).toFixed(0)} µs server CPU per request`,
    });
    const base = summary(without, "V2 ingest, 0 rules per device");
    const ruledRow = summary(withRules, `V2 ingest, ${RULES_PER_DEVICE} rules per device`);
    const rows = [base, ruledRow, ...without.flatMap((r, i) => [r, withRules[i]!])];
    table(
      `Rules: V2 ingest with 0 and ${RULES_PER_DEVICE} rules per device (${perHalf} devices each, ${rules.toLocaleString("en-US")} rules, ${connections} connections, ${seconds} s rounds in turns)`,
      rows,
      base.rps,
    );
    console.log(
      `\nwith rules: ${((ruledRow.rps! / base.rps!) * 100).toFixed(0)}% of the req/s without (target: at least 80%); rules fired: ${fired}, rule rows updated: ${written} (steady conditions: evaluation only)`,
    );
  } finally {
    await server.stop();
    await scratch.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
