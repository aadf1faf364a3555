import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { loadConfig } from "../../src/platform/config.js";
import { createLogger, startServer, type RunningServer } from "../../src/app/server.js";

/** A fresh database on the test PostgreSQL, so test files can run in parallel without sharing rows. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new URL(inject("pgAdminUrl"));
  const name = `thingsnxt_t_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestServer extends RunningServer {
  databaseUrl: string;
  /** Stops the server and drops its database. */
  stop(): Promise<void>;
}

/** The real server on a real PostgreSQL, listening on a free port of 127.0.0.1. */
export async function startTestServer(env: Record<string, string> = {}, databaseUrl?: string, logTo?: NodeJS.WritableStream): Promise<TestServer> {
  const db = databaseUrl ? undefined : await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    // Budgets of login, register, ... are tested on their own; elsewhere they would only get in the way.
    GRAPHQL_RATE_LIMIT_FACTOR: "1000",
    // The machine's own broker has 1883; the MQTT tests ask for a free port (MQTT_PORT=0).
    MQTT_PORT: "off",
    DATABASE_URL: databaseUrl ?? db!.url,
    ...env,
  });
  const server = await startServer(config, createLogger(config, logTo));
  return Object.assign(server, {
    databaseUrl: databaseUrl ?? db!.url,
    stop: async () => {
      await server.close();
      await db?.drop();
    },
  });
}

/** A user row, enough to own devices (accounts and login come with the GraphQL API). */
export async function createUser(server: RunningServer, name = `u${randomBytes(4).toString("hex")}`): Promise<string> {
  const { rows } = await server.services.pool.query<{ id: string }>(`INSERT INTO users (email, username) VALUES ($1, $2) RETURNING id`, [
    `${name}@example.com`,
    name,
  ]);
  return rows[0]!.id;
}

export async function createDevice(server: RunningServer, ownerId: string, name = "esp32"): Promise<{ id: string; token: string }> {
  return server.services.devices.create(ownerId, { name, type: "esp32" });
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A request as firmware sends it. `body` objects are sent as JSON; strings are sent as they are. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(base + path, { method, headers, body: payload });
  const text = await response.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export { pg };
