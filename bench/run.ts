/**
 * `npm run bench`: the server in its own process on the local PostgreSQL, loaded from this process
 * with autocannon. Prints a table in which every row stands beside the bare node:http ceiling
 * measured in the same run. Not a test: it asserts nothing; the README records what it printed.
 *
 *   DATABASE_URL  admin URL of the PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SECONDS seconds per scenario (default 10)
 *   BENCH_CONNECTIONS connections (default 100)
 *   BENCH_DEVICES distinct devices (default 500)
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import autocannon from "autocannon";
import pg from "pg";
import { freePort } from "../src/db/embedded.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const deviceCount = Number(process.env.BENCH_DEVICES ?? 500);
const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

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

function load(name: string, url: string, requests: autocannon.Request[]): Promise<Row> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, requests }, (error, result) => {
      if (error) return reject(error);
      resolve({
        scenario: name,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
      });
    });
  });
}

async function main(): Promise<void> {
  const dbName = `thingsnxt_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const server = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, DATABASE_URL: dbUrl.toString(), PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", RATE_LIMIT_MAX: "1000000000", NODE_ENV: "production" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    children.push(server);
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(`${base}/health`, server);

    // Devices straight into the database: one user, `deviceCount` devices with known tokens.
    const db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();
    const owner = (await db.query(`INSERT INTO users (email, username) VALUES ('bench@example.com', 'bench') RETURNING id`)).rows[0].id;
    const devices: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < deviceCount; i++) {
      const token = randomBytes(32).toString("base64url");
      const id = (await db.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`, [owner, `bench-${i}`, createHash("sha256").update(token).digest("hex")])).rows[0].id;
      await db.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
      devices.push({ id, token });
    }

    let next = 0;
    const pick = () => devices[next++ % devices.length]!;
    const report = () => JSON.stringify({ v0: next & 1, v1: 0, temperature: 20 + (next % 100) / 10, humidity: 55, timestamp: next });
    const v2: autocannon.Request = {
      method: "POST",
      setupRequest: (req) => {
        const d = pick();
        return { ...req, path: `/devices/${d.id}/telemetry`, headers: { "content-type": "application/json" }, body: `{"device_token":"${d.token}","data":${report()}}` };
      },
    };
    const legacy: autocannon.Request = {
      method: "POST",
      setupRequest: (req) => {
        const d = pick();
        return { ...req, path: "/telemetry", headers: { "content-type": "application/json" }, body: `{"device_token":"${d.token}","data":${report()}}` };
      },
    };
    const poll: autocannon.Request = {
      method: "GET",
      setupRequest: (req) => ({ ...req, path: `/telemetry/latest?device_token=${pick().token}` }),
    };

    const barePort = await freePort();
    const bare = fork(new URL("./bare-server.mjs", import.meta.url), { env: { PORT: String(barePort) }, stdio: "inherit" });
    children.push(bare);
    await new Promise((r) => bare.once("message", r));

    const rows: Row[] = [];
    rows.push(await load("bare node:http, fixed JSON (ceiling)", `http://127.0.0.1:${barePort}`, [{ method: "GET", path: "/" }]));
    bare.kill();
    // Warm the device caches so the table shows the steady state, as in production.
    await load("warm-up", base, [poll]).catch(() => undefined);
    rows.push(await load(`V2 POST /devices/{id}/telemetry (5 keys, ${deviceCount} devices)`, base, [v2]));
    rows.push(await load(`legacy POST /telemetry (5 keys, ${deviceCount} devices)`, base, [legacy]));
    rows.push(await load(`poll GET /telemetry/latest (${deviceCount} devices)`, base, [poll]));

    const stored = (await db.query(`SELECT count(*)::int AS n FROM telemetry`)).rows[0].n;
    await db.end();
    const ceiling = rows[0]!.rps;
    const date = new Date().toISOString().slice(0, 10);
    console.log(`\nThingsNXT benchmark, ${date}: ${connections} connections, ${seconds} s per scenario, load generator on the same machine\n`);
    console.log("| scenario | req/s | p50 ms | p99 ms | vs ceiling | errors |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(`| ${r.scenario} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${((r.rps / ceiling) * 100).toFixed(0)}% | ${r.errors} |`);
    }
    console.log(`\nhistory rows stored during the run: ${stored.toLocaleString("en-US")} (every 200 is a committed report)`);
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
