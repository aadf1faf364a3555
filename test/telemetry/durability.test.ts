import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { freePort, startEmbedded, type EmbeddedDatabase } from "../../src/platform/db/embedded.js";
import { eventually } from "../helpers/fixture.js";
import { createDevice, createUser, http, pg, sleep, startTestServer, type TestServer } from "../helpers/server.js";

interface Sent {
  n: number;
  status: number;
}

/** Reports with a unique counter; afterwards every 200 must be in history. */
async function hammer(server: TestServer, device: { id: string; token: string }, until: () => boolean, sent: Sent[] = []): Promise<Sent[]> {
  let n = 0;
  const worker = async () => {
    while (!until()) {
      const mine = n++;
      const res = await http(server.url, "POST", `/devices/${device.id}/telemetry`, {
        body: { device_token: device.token, data: { n: mine } },
      }).catch(() => ({ status: 0, body: undefined }));
      sent.push({ n: mine, status: res.status });
      if (res.status !== 200)
        expect(res.status === 503 ? res.body : { detail: "Storage is unavailable; nothing was stored, retry later" }).toEqual({
          detail: "Storage is unavailable; nothing was stored, retry later",
        });
      await sleep(5);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return sent;
}

async function storedCounters(server: TestServer, deviceId: string): Promise<Set<number>> {
  const { rows } = await server.services.pool.query<{ num: number }>(`SELECT num FROM telemetry WHERE device_id = $1 AND key = 'n'`, [deviceId]);
  return new Set(rows.map((r) => r.num));
}

describe("with the database cut off (connections terminated, new ones refused)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_MAX: "1000000" });
  });
  afterAll(() => server.stop());

  it("answers 503 with a clear body, stays up, recovers by itself and loses no acknowledged report", async () => {
    const device = await createDevice(server, await createUser(server));
    const dbName = new URL(server.databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: server.databaseUrl.replace(`/${dbName}`, "/postgres") });
    await admin.connect();
    let phase: "before" | "down" | "after" | "done" = "before";
    const load = hammer(server, device, () => phase === "done");
    await sleep(300);

    phase = "down";
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);
    await sleep(800);
    const down = await http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n: -1 } } });
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ detail: "Storage is unavailable; nothing was stored, retry later" });
    const health = await http(server.url, "GET", "/health");
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: "degraded", database: "disconnected" });

    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    phase = "after";
    await sleep(800);
    phase = "done";
    const sent = await load;
    await admin.end();

    expect((await http(server.url, "GET", "/health")).status).toBe(200);
    const ok = sent.filter((s) => s.status === 200);
    const refused = sent.filter((s) => s.status === 503);
    expect(refused.length).toBeGreaterThan(0); // the outage was seen
    expect(sent.every((s) => s.status === 200 || s.status === 503)).toBe(true); // never a 500
    const stored = await storedCounters(server, device.id);
    expect(ok.filter((s) => !stored.has(s.n))).toEqual([]);
    // And it works normally afterwards.
    const after = await http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n: 1e9 } } });
    expect(after.status).toBe(200);
  });
});

describe("with an embedded PostgreSQL stopped and started again", () => {
  let dir: string;
  let db: EmbeddedDatabase;
  let server: TestServer;
  let port: number;
  const log = pino({ level: "silent" });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "thingsnxt-durability-"));
    port = await freePort();
    db = await startEmbedded(dir, port, log);
    server = await startTestServer({ RATE_LIMIT_MAX: "1000000" }, db.url);
  });
  afterAll(async () => {
    await server.close();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses writes with 503 while it is down and keeps every acknowledged report", async () => {
    const device = await createDevice(server, await createUser(server));
    let phase = "up";
    const sending: Sent[] = [];
    const load = hammer(server, device, () => phase === "done", sending);
    await sleep(300);
    await db.stop();
    const down = await http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n: -1 } } });
    expect(down.status).toBe(503);
    await sleep(500);
    db = await startEmbedded(dir, port, log);
    // Until reports are acknowledged again (how long that takes depends on how busy the machine is).
    const restartedAt = sending.length;
    await eventually("reports acknowledged after the restart", () => sending.slice(restartedAt).filter((s) => s.status === 200).length >= 10, 20_000);
    phase = "done";
    const sent = await load;
    expect(sent.every((s) => s.status === 200 || s.status === 503)).toBe(true);
    const stored = await storedCounters(server, device.id);
    expect(sent.filter((s) => s.status === 200 && !stored.has(s.n))).toEqual([]);
    expect(sent.filter((s) => s.status === 200).length).toBeGreaterThan(10);
  });
});
