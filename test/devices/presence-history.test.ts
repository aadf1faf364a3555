import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Topic, type Payloads } from "../../src/platform/event-bus.js";
import { createDevice, createUser, http, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/fixture.js";

let server: TestServer;
let owner: string;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000", OFFLINE_TIMEOUT: "2", LAST_SEEN_FLUSH_SECONDS: "1" });
  owner = await createUser(server);
});
afterAll(() => server.stop());

describe("device status", () => {
  it("goes online on first contact and offline after OFFLINE_TIMEOUT of silence, each transition emitted once", async () => {
    const events: Array<Payloads[Topic.DeviceStatusChanged]> = [];
    const d = await createDevice(server, owner);
    server.services.bus.subscribe(Topic.DeviceStatusChanged, (e) => e.deviceId === d.id && events.push(e));
    const poll = () => http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`);
    await Promise.all([poll(), poll(), poll()]);
    await poll();
    await sleep(100);
    expect(events.map((e) => e.status)).toEqual(["online"]);
    expect(events[0]).toMatchObject({ deviceId: d.id, ownerId: owner });
    const row = await server.services.pool.query(`SELECT status FROM devices WHERE id = $1`, [d.id]);
    expect(row.rows[0].status).toBe("online");

    // Offline after OFFLINE_TIMEOUT plus one flush period (other processes' contacts), checked by the sweep job.
    for (let waited = 0; waited < 8000 && events.length < 2; waited += 100) await sleep(100);
    expect(events.map((e) => e.status)).toEqual(["online", "offline"]);
    const after = await server.services.pool.query(`SELECT status, last_seen_at FROM devices WHERE id = $1`, [d.id]);
    expect(after.rows[0].status).toBe("offline");
    expect(after.rows[0].last_seen_at).toBeInstanceOf(Date);

    await poll();
    await sleep(100);
    expect(events.map((e) => e.status)).toEqual(["online", "offline", "online"]);
  });

  it("a device that keeps polling stays online", async () => {
    const events: string[] = [];
    const d = await createDevice(server, owner);
    server.services.bus.subscribe(Topic.DeviceStatusChanged, (e) => e.deviceId === d.id && events.push(e.status));
    for (let i = 0; i < 8; i++) {
      await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`);
      await sleep(500);
    }
    expect(events).toEqual(["online"]);
  });

  it("a poll of a known device costs no database query", async () => {
    const d = await createDevice(server, owner);
    await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`); // warms the caches, goes online
    // The online transition (its UPDATE and the status alert) happens after the answer: let it finish.
    await eventually(
      "the device online",
      async () => (await server.services.pool.query(`SELECT 1 FROM devices WHERE id = $1 AND status = 'online'`, [d.id])).rowCount === 1,
    );
    await sleep(300);
    const pool = server.services.pool;
    let queries = 0;
    const original = pool.query.bind(pool);
    const originalConnect = pool.connect.bind(pool);
    // Count, not replace: every call still goes to the real database.
    pool.query = ((...args: Parameters<typeof pool.query>) => (queries++, original(...args))) as typeof pool.query;
    pool.connect = ((...args: []) => (queries++, originalConnect(...args))) as typeof pool.connect;
    const started = Date.now();
    let elapsed = 0;
    try {
      for (let i = 0; i < 20; i++) expect((await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(200);
    } finally {
      elapsed = Date.now() - started;
      pool.query = original as typeof pool.query;
      pool.connect = originalConnect as typeof pool.connect;
    }
    // At most the periodic last-seen flush (one per LAST_SEEN_FLUSH_SECONDS, 1 s here), never one per poll.
    expect(queries).toBeLessThanOrEqual(1 + Math.floor(elapsed / 1000));
  });
});

describe("telemetry history", () => {
  const t = (s: string) => Date.parse(`2026-03-01T${s}Z`);

  it("answers raw points and buckets across bucket boundaries", async () => {
    const d = await createDevice(server, owner);
    const info = (await server.services.directory.findById(d.id))!;
    const reports: Array<[string, number]> = [
      ["10:00:30.000", 1],
      ["10:00:59.999", 3],
      ["10:01:00.000", 10],
      ["10:59:59.000", 20],
      ["11:00:00.000", 30],
      ["23:59:59.999", 40],
      ["24:00:00.000", 50],
    ];
    for (const [time, value] of reports) {
      const at = time.startsWith("24") ? Date.parse("2026-03-02T00:00:00.000Z") : t(time);
      await server.services.state.report(info, { temp: value, mode: value > 15 ? "hot" : "cold" }, at);
    }
    const h = server.services.history;
    const from = new Date(t("10:00:00.000"));
    const to = new Date(Date.parse("2026-03-03T00:00:00.000Z"));

    const raw = await h.raw({ deviceId: d.id, key: "temp", from, to });
    expect(raw.map((p) => p.value)).toEqual([1, 3, 10, 20, 30, 40, 50]);
    expect(raw[0]!.ts).toBe("2026-03-01T10:00:30.000Z");
    // Half-open range: a point exactly at `to` is outside.
    const upTo11 = await h.raw({ deviceId: d.id, key: "temp", from, to: new Date(t("11:00:00.000")) });
    expect(upTo11.map((p) => p.value)).toEqual([1, 3, 10, 20]);
    expect((await h.raw({ deviceId: d.id, key: "temp", from, to, limit: 2 })).map((p) => p.value)).toEqual([40, 50]);

    expect(await h.bucketed({ deviceId: d.id, key: "temp", from, to: new Date(t("11:30:00.000")), bucket: "1m" })).toEqual([
      { ts: "2026-03-01T10:00:00.000Z", avg: 2, min: 1, max: 3, sum: 4, count: 2 },
      { ts: "2026-03-01T10:01:00.000Z", avg: 10, min: 10, max: 10, sum: 10, count: 1 },
      { ts: "2026-03-01T10:59:00.000Z", avg: 20, min: 20, max: 20, sum: 20, count: 1 },
      { ts: "2026-03-01T11:00:00.000Z", avg: 30, min: 30, max: 30, sum: 30, count: 1 },
    ]);
    expect(await h.bucketed({ deviceId: d.id, key: "temp", from, to, bucket: "1h" })).toEqual([
      { ts: "2026-03-01T10:00:00.000Z", avg: 8.5, min: 1, max: 20, sum: 34, count: 4 },
      { ts: "2026-03-01T11:00:00.000Z", avg: 30, min: 30, max: 30, sum: 30, count: 1 },
      { ts: "2026-03-01T23:00:00.000Z", avg: 40, min: 40, max: 40, sum: 40, count: 1 },
      { ts: "2026-03-02T00:00:00.000Z", avg: 50, min: 50, max: 50, sum: 50, count: 1 },
    ]);
    expect(await h.bucketed({ deviceId: d.id, key: "temp", from, to, bucket: "1d" })).toEqual([
      { ts: "2026-03-01T00:00:00.000Z", avg: 104 / 6, min: 1, max: 40, sum: 104, count: 6 },
      { ts: "2026-03-02T00:00:00.000Z", avg: 50, min: 50, max: 50, sum: 50, count: 1 },
    ]);

    expect((await h.raw({ deviceId: d.id, key: "mode", from, to })).map((p) => p.value)).toEqual(["cold", "cold", "cold", "hot", "hot", "hot", "hot"]);
    await expect(h.bucketed({ deviceId: d.id, key: "mode", from, to, bucket: "1h" })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: 'key "mode" holds values that are not numbers; ask for raw points instead of buckets',
    });
    await expect(h.bucketed({ deviceId: d.id, key: "temp", from, to, bucket: "5 minutes" })).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    await expect(h.raw({ deviceId: d.id, key: "temp", from: to, to: from })).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("history of one device never includes another's", async () => {
    const a = await createDevice(server, owner);
    const b = await createDevice(server, owner);
    for (const [d, v] of [
      [a, 1],
      [b, 2],
    ] as const) {
      await http(server.url, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { x: v } } });
    }
    const points = await server.services.history.raw({ deviceId: a.id, key: "x" });
    expect(points.map((p) => p.value)).toEqual([1]);
  });

  it("deleting a device removes its state and history", async () => {
    const d = await createDevice(server, owner);
    await http(server.url, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { x: 1 } } });
    expect(await server.services.devices.delete(d.id, owner)).toBe(true);
    const left = await server.services.pool.query(
      `SELECT (SELECT count(*) FROM telemetry WHERE device_id = $1)::int + (SELECT count(*) FROM device_state WHERE device_id = $1)::int AS n`,
      [d.id],
    );
    expect(left.rows[0].n).toBe(0);
    const res = await http(server.url, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { x: 1 } } });
    expect(res.status).toBe(404);
    expect((await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(403);
  });
});
