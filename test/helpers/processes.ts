import { spawn, type ChildProcess } from "node:child_process";
import pg from "pg";
import { afterEach, beforeEach } from "vitest";
import { freePort } from "../../src/platform/db/embedded.js";
import { eventually } from "./fixture.js";
import { createTestDatabase } from "./server.js";

/** A server process as `npm start` runs it (`src/main.ts`), on its own port. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}

/** Every process started here, for `stopProcesses` in an afterEach. */
const started: ChildProcess[] = [];

/** Starts `src/main.ts` on `databaseUrl` and resolves once it answers /health. One process: no Redis, no MQTT. */
export async function startProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: "",
      PORT: String(port),
      HOST: "127.0.0.1",
      MQTT_PORT: "off",
      LOG_LEVEL: "warn",
      RATE_LIMIT_MAX: "100000",
      GRAPHQL_RATE_LIMIT_FACTOR: "1000",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  started.push(child);
  const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    "the process to answer /health",
    () =>
      child.exitCode === null &&
      fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      ),
    90_000,
  );
  return { url, child, exited };
}

/** The crash: SIGKILL, nothing runs after it. */
export async function kill9(p: ServerProcess): Promise<void> {
  p.child.kill("SIGKILL");
  await p.exited;
}

/** SIGTERM to every process still running, waiting for each to exit. */
export async function stopProcesses(): Promise<void> {
  for (const child of started.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

/**
 * For tests of server processes: a scratch database per test with a small pool on it (`sql`); after
 * each test the processes started here stop, then the pool, then the database goes.
 */
export function databasePerTest(poolSize = 2): { readonly url: string; readonly sql: pg.Pool } {
  let db: { url: string; drop(): Promise<void> } | undefined;
  let sql: pg.Pool | undefined;
  beforeEach(async () => {
    db = await createTestDatabase();
    sql = new pg.Pool({ connectionString: db.url, max: poolSize });
  });
  afterEach(async () => {
    await stopProcesses();
    await sql?.end();
    await db?.drop();
  });
  return {
    get url() {
      return db!.url;
    },
    get sql() {
      return sql!;
    },
  };
}
