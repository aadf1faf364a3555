import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { pino } from "pino";
import { Redis } from "ioredis";
import type { DataSource } from "typeorm";
import { loadConfig } from "../platform/config.js";
import { createDataSource, poolOf } from "../platform/db/data-source.js";
import { attachEmbedded, type EmbeddedDatabase } from "../platform/db/embedded.js";
import { runMigrationsLocked } from "../platform/db/migrate.js";
import { AppError } from "../platform/errors.js";
import { EventBus } from "../platform/event-bus.js";
import { LogMailer } from "../platform/mailer.js";
import { serverSecret } from "../platform/secrets.js";
import { AuthService } from "../services/accounts/auth.service.js";
import { SessionService } from "../services/accounts/session.service.js";
import { DeviceService } from "../services/devices/device.service.js";
import { entities, migrations } from "./modules.js";

export const ADMIN_USAGE = `Usage: npm run admin -- <command>
  create-user <email> <username> [password]   a new account (a password is generated when omitted)
  reset-password <email or username> [password]   sets a new password and ends every session
  list-users                                  every account with its number of devices
  list-devices [email or username]            devices, all or of one account
  rotate-token <device id>                    a new device token; the old one stops working
Works on the configured database (DATABASE_URL, or the embedded one in DATA_DIR, also while the server runs).`;

const generated = () => `${randomBytes(9).toString("base64url")}a1A`;

/** Runs one admin command; returns the process exit code. Output goes to `out`, errors to `err`. */
export async function runAdmin(args: string[], env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === "help" || command === "--help") {
    out(ADMIN_USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig(env);
  const log: Logger = pino({ level: "warn" }, pino.destination(2));
  let embedded: EmbeddedDatabase | undefined;
  let dataSource: DataSource | undefined;
  let redis: Redis | undefined;
  try {
    const url = config.databaseUrl ?? (embedded = await attachEmbedded(config.dataDir, log)).url;
    dataSource = createDataSource(url, 2, { entities, migrations });
    await dataSource.initialize();
    await runMigrationsLocked(dataSource);
    const pool = poolOf(dataSource);
    // With Redis the running servers hear of a rotated token or a reset at once; without it their
    // caches expire the old entries within a minute (DeviceDirectory and SessionService TTLs).
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
      await redis.connect();
    }
    const namespace = new URL(url).pathname.slice(1) || "thingsnxt";
    const bus = new EventBus(redis ? { client: redis, channel: `thingsnxt:${namespace}:events`, log } : undefined);
    await bus.connect();
    const sessions = new SessionService(await serverSecret(pool, "jwt", config.jwtSecret), pool, bus, config.accessTokenTtlSeconds);
    const auth = new AuthService(dataSource, pool, sessions, new LogMailer(log), bus, config);
    const devices = new DeviceService(pool, bus, dataSource);
    switch (command) {
      case "create-user": {
        const [email, username, given] = rest;
        if (!email || !username) throw new AppError("BAD_USER_INPUT", "create-user needs <email> <username> [password]");
        const password = given ?? generated();
        const { user } = await auth.register({ email, username, password });
        out(`created user ${user.username} <${user.email}> id ${user.id}`);
        if (!given) out(`password: ${password}`);
        return 0;
      }
      case "reset-password": {
        const [login, given] = rest;
        if (!login) throw new AppError("BAD_USER_INPUT", "reset-password needs <email or username> [password]");
        const password = given ?? generated();
        const user = await auth.setPassword(login, password);
        out(`password of ${user.username} replaced; every session of that account ended`);
        if (!given) out(`password: ${password}`);
        return 0;
      }
      case "list-users": {
        const { rows } = await pool.query<{ id: string; username: string; email: string; devices: number; created_at: Date }>(
          `SELECT u.id, u.username, u.email, u.created_at, (SELECT count(*)::int FROM devices d WHERE d.owner_id = u.id) AS devices FROM users u ORDER BY u.created_at`,
        );
        for (const r of rows) out(`${r.id}  ${r.username}  ${r.email}  devices: ${r.devices}  since ${r.created_at.toISOString()}`);
        if (rows.length === 0) out("no users");
        return 0;
      }
      case "list-devices": {
        const [login] = rest;
        const { rows } = await pool.query<{ id: string; name: string; status: string; last_seen_at: Date | null; username: string }>(
          `SELECT d.id, d.name, d.status, d.last_seen_at, u.username FROM devices d JOIN users u ON u.id = d.owner_id
            WHERE $1::text IS NULL OR lower(u.email) = lower($1) OR lower(u.username) = lower($1) ORDER BY u.username, d.created_at`,
          [login ?? null],
        );
        for (const r of rows) out(`${r.id}  ${r.name}  ${r.status}  owner ${r.username}  last seen ${r.last_seen_at?.toISOString() ?? "never"}`);
        if (rows.length === 0) out("no devices");
        return 0;
      }
      case "rotate-token": {
        const [id] = rest;
        const { rows } = await pool.query<{ owner_id: string }>(`SELECT owner_id FROM devices WHERE id::text = lower($1)`, [id ?? ""]);
        if (!id || !rows[0]) throw new AppError("NOT_FOUND", "Device not found");
        out(`new token of device ${id.toLowerCase()} (shown once): ${await devices.rotateOwned(rows[0].owner_id, id)}`);
        return 0;
      }
      default:
        err(`unknown command ${JSON.stringify(command)}\n${ADMIN_USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof AppError) {
      err(error.message);
      return 1;
    }
    throw error;
  } finally {
    await dataSource?.destroy().catch(() => undefined);
    redis?.disconnect();
    await embedded?.stop();
  }
}
