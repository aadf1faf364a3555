import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pg } from "../helpers/server.js";

/** `npm start` as a child process, for what only the real entry point does (.env, exit codes). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// Absolute, so the child can run in another working directory (one holding a .env).
const tsx = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
const main = join(root, "src/main.ts");

/** Nothing listens there: a start that got as far as the database fails at once instead of starting. */
const NO_DATABASE = "postgres://postgres@127.0.0.1:1/none";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const holders: Server[] = [];
let taken: number;
let alsoTaken: number;
let dir: string;

async function hold(): Promise<number> {
  const holder = createServer();
  holders.push(holder);
  await new Promise<void>((ready) => holder.listen(0, "127.0.0.1", ready));
  return (holder.address() as { port: number }).port;
}

beforeAll(async () => {
  db = await createTestDatabase();
  taken = await hold();
  alsoTaken = await hold();
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-env-"));
});
afterAll(async () => {
  for (const holder of holders) holder.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  stderr: string;
  ms: number;
}

function run(env: Record<string, string>, cwd = root): Promise<Exit> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn", TSX_TSCONFIG_PATH: join(root, "tsconfig.json") };
  // Only what each test passes: the runner's own settings would mask the .env under test.
  for (const name of ["PORT", "HOST", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "EMBEDDED_PG_PORT"]) delete childEnv[name];
  Object.assign(childEnv, env);
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", tsx, main], { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (code) => {
      clearTimeout(kill);
      done({ code, stderr, ms: Date.now() - started });
    });
  });
}

/** Whether the start touched the database: the migrations table is the first thing it would create. */
async function migrated(): Promise<boolean> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('public.migrations')::text AS t");
    return rows[0]!.t !== null;
  } finally {
    await client.end();
  }
}

const STACK_LINE = /^\s+at /m;

describe("start-up errors", () => {
  it("a taken PORT stops the start at once, before any database work, with one line naming PORT and exit code 2", async () => {
    const exit = await run({ PORT: String(taken), HOST: "127.0.0.1", DATABASE_URL: db.url });
    expect(exit.code).toBe(2);
    expect(exit.stderr.trim()).toBe(`Configuration error: PORT ${taken} on 127.0.0.1 is already in use: stop the other process or set PORT`);
    expect(exit.stderr).not.toMatch(STACK_LINE);
    // Loading the code takes most of it; migrations alone would take longer than this.
    expect(exit.ms).toBeLessThan(8000);
    expect(await migrated()).toBe(false);
  }, 40_000);

  it("reads .env from the working directory", async () => {
    await writeFile(join(dir, ".env"), `PORT=${taken}\nHOST=127.0.0.1\n`);
    const exit = await run({ DATABASE_URL: NO_DATABASE }, dir);
    expect(exit.stderr.trim()).toBe(`Configuration error: PORT ${taken} on 127.0.0.1 is already in use: stop the other process or set PORT`);
    expect(exit.code).toBe(2);
  }, 40_000);

  it("lets the real environment win over .env, variable by variable", async () => {
    await writeFile(join(dir, ".env"), `PORT=${taken}\nHOST=127.0.0.1\n`);
    const exit = await run({ DATABASE_URL: NO_DATABASE, PORT: String(alsoTaken) }, dir);
    // PORT from the environment, HOST from the file.
    expect(exit.stderr.trim()).toBe(`Configuration error: PORT ${alsoTaken} on 127.0.0.1 is already in use: stop the other process or set PORT`);
    expect(exit.code).toBe(2);
  }, 40_000);

  it("reports a bad value in .env as a configuration error", async () => {
    await writeFile(join(dir, ".env"), `PORT=eighty\n`);
    const exit = await run({ DATABASE_URL: NO_DATABASE }, dir);
    expect(exit.stderr.trim()).toBe('Configuration error: PORT must be a whole number, got "eighty"');
    expect(exit.code).toBe(2);
  }, 40_000);
});
