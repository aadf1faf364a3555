import type { PoolClient } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

let server: TestServer;
beforeAll(async () => {
  // A budget of 2 proves the probes are never counted; a pool of 2 lets a test hold every connection.
  server = await startTestServer({ RATE_LIMIT_MAX: "2", DB_POOL_SIZE: "2" });
});
afterAll(() => server?.stop());

const READY = { status: "ready", checks: { database: "ok", migrations: "ok", redis: "not configured" } };

describe("GET /health/live", () => {
  it("answers alive, and is never rate limited", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await http(server.url, "GET", "/health/live");
      expect(res.status, `call ${i + 1}`).toBe(200);
      expect(res.body).toEqual({ status: "alive" });
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
  });
});

describe("GET /health/ready", () => {
  it("is ready when the database answers and no migration is pending; never rate limited", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await http(server.url, "GET", "/health/ready");
      expect(res.status, `call ${i + 1}`).toBe(200);
      expect(res.body).toEqual(READY);
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
  });

  it("is 503 with migrations failed while a migration is pending, and ready again once it is applied", async () => {
    const pool = server.services.pool;
    const { rows } = await pool.query<{ id: number; timestamp: string; name: string }>(
      "SELECT id, timestamp, name FROM migrations ORDER BY timestamp DESC LIMIT 1",
    );
    const last = rows[0]!;
    await pool.query("DELETE FROM migrations WHERE id = $1", [last.id]);
    try {
      const res = await http(server.url, "GET", "/health/ready");
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: "not ready", checks: { database: "ok", migrations: "failed", redis: "not configured" } });
    } finally {
      await pool.query("INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)", [last.id, last.timestamp, last.name]);
    }
    expect((await http(server.url, "GET", "/health/ready")).body).toEqual(READY);
  });

  it("is 503 with the database failed when the database does not answer in time, while live still answers", async () => {
    // Every pooled connection held: SELECT 1 waits in the queue like it would for a hung database.
    const held: PoolClient[] = await Promise.all([server.services.pool.connect(), server.services.pool.connect()]);
    try {
      const started = Date.now();
      const [ready, live] = await Promise.all([http(server.url, "GET", "/health/ready"), http(server.url, "GET", "/health/live")]);
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe("not ready");
      expect(ready.body.checks.database).toBe("failed");
      expect(Date.now() - started).toBeLessThan(2900); // the probe's own timeout, not the pool's 3 s
      expect(live.status).toBe(200);
    } finally {
      for (const client of held) client.release();
    }
    expect((await http(server.url, "GET", "/health/ready")).body).toEqual(READY);
  });
});

describe("GET /health", () => {
  it("keeps its shape", async () => {
    const res = await http(server.url, "GET", "/health");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["status", "timestamp", "database", "version", "uptime_seconds"]);
    expect(res.body).toMatchObject({ status: "healthy", database: "connected" });
  });
});

describe("GET /health/ready with Redis", () => {
  let withRedis: TestServer;
  beforeAll(async () => {
    withRedis = await startTestServer({ REDIS_URL: redisUrl, RATE_LIMIT_MAX: "1000" });
  });
  afterAll(() => withRedis?.stop());

  it("checks Redis with PING, and is 503 with redis failed once Redis is gone", async () => {
    const up = await http(withRedis.url, "GET", "/health/ready");
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok", redis: "ok" } });
    withRedis.services.redis!.disconnect();
    const down = await http(withRedis.url, "GET", "/health/ready");
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: "not ready", checks: { database: "ok", migrations: "ok", redis: "failed" } });
    expect((await http(withRedis.url, "GET", "/health/live")).status).toBe(200);
  });
});
