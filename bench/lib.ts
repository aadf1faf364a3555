/** Shared pieces of the benchmarks: a server process on a scratch database, load, tables. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import autocannon from "autocannon";
import pg from "pg";
import { freePort } from "../src/platform/db/embedded.js";

export const seconds = Number(process.env.BENCH_SECONDS ?? 10);
export const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Row {
  scenario: string;
  rps?: number;
  p50?: number;
  p99?: number;
  errors?: number;
  note?: string;
}

export interface BenchServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `thingsnxt_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The real server (`src/main.ts`) as its own process, as in production. */
export async function startServer(databaseUrl: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      RATE_LIMIT_MAX: "1000000000",
      GRAPHQL_RATE_LIMIT_FACTOR: "1000000",
      NODE_ENV: "production",
      REDIS_URL: "",
      MQTT_PORT: "off", // the MQTT bench asks for its own port; 1883 may be another broker's
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}

export function load(name: string, url: string, requests: autocannon.Request[], connections = 100, duration = seconds): Promise<Row> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, requests }, (error, result) => {
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

export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export async function account(url: string): Promise<string> {
  const name = `bench${randomBytes(4).toString("hex")}`;
  const data = await gql<{ register: { accessToken: string } }>(url, `mutation ($i: RegisterInput!) { register(input: $i) { accessToken } }`, {
    i: { email: `${name}@example.com`, username: name, password: "Bench-Passw0rd" },
  });
  return data.register.accessToken;
}

export async function device(url: string, token: string, name = "bench"): Promise<{ id: string; token: string }> {
  const data = await gql<{ createDevice: { token: string; device: { id: string } } }>(
    url,
    `mutation ($n: String!) { createDevice(input: { name: $n }) { token device { id } } }`,
    { n: name },
    token,
  );
  return { id: data.createDevice.device.id, token: data.createDevice.token };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? "" : n.toLocaleString("en-US", { maximumFractionDigits: digits }));

export function table(title: string, rows: Row[], baseline?: number): void {
  console.log(`\n### ${title}\n`);
  console.log(`| scenario | req/s | p50 ms | p99 ms | ${baseline ? "vs baseline | " : ""}errors | note |`);
  console.log(`|---|---:|---:|---:|${baseline ? "---:|" : ""}---:|---|`);
  for (const r of rows) {
    const ratio = baseline && r.rps ? `${((r.rps / baseline) * 100).toFixed(0)}% | ` : baseline ? " | " : "";
    console.log(`| ${r.scenario} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${ratio}${fmt(r.errors)} | ${r.note ?? ""} |`);
  }
}
