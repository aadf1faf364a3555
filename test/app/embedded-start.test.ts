import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/platform/db/embedded.js";
import { http, pg, sleep } from "../helpers/server.js";

/**
 * `npm start` as a user runs it: no DATABASE_URL, an embedded PostgreSQL in DATA_DIR. The process is
 * a real child; one start ends in SIGKILL to prove a crash leaves a folder that still starts.
 */
const children: ChildProcess[] = [];
let dir: string;

async function start(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { env: childEnv, stdio: ["ignore", "inherit", "inherit"] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 60_000; waited += 200) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, url };
    await sleep(200);
  }
  throw new Error("server did not become healthy");
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm start with an embedded PostgreSQL", () => {
  it("keeps data across a clean restart and still starts after a SIGKILL", async () => {
    dir = await mkdtemp(join(tmpdir(), "thingsnxt-start-"));
    const pgPort = await freePort();
    const env = { DATA_DIR: dir, EMBEDDED_PG_PORT: String(pgPort) };
    const first = await start(env);

    // Seed a user and device straight into the embedded database (accounts come with the GraphQL API).
    const password = (await readFile(join(dir, "pg-password"), "utf8")).trim();
    const db = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${pgPort}/thingsnxt` });
    await db.connect();
    const token = "smoke-test-token-0123456789abcdef";
    const user = await db.query(`INSERT INTO users (email, username) VALUES ('a@example.com', 'alice') RETURNING id`);
    const dev = await db.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, 'esp32', $2) RETURNING id`, [
      user.rows[0].id,
      createHash("sha256").update(token).digest("hex"),
    ]);
    await db.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [dev.rows[0].id]);
    await db.end();
    const id = dev.rows[0].id as string;

    const post = (url: string, data: object) => http(url, "POST", `/devices/${id}/telemetry`, { body: { device_token: token, data } });
    expect((await post(first.url, { temperature: 21.5 })).status).toBe(200);

    first.child.kill("SIGTERM");
    expect(await exited(first.child)).toBe(0);

    const second = await start(env);
    expect((await http(second.url, "GET", `/telemetry/latest?device_token=${token}`)).body.data).toEqual({ temperature: 21.5 });
    expect((await post(second.url, { temperature: 22 })).status).toBe(200);

    second.child.kill("SIGKILL"); // the postgres child survives this: the next start must deal with it
    await exited(second.child);

    const third = await start(env);
    const latest = await http(third.url, "GET", `/telemetry/latest?device_token=${token}`);
    expect(latest.body.data).toEqual({ temperature: 22 });
    third.child.kill("SIGTERM");
    expect(await exited(third.child)).toBe(0);
  }, 120_000);
});
