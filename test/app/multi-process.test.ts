import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp } from "../helpers/graphql.js";
import { startProcess, stopProcesses } from "../helpers/processes.js";
import { http, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { subscribe } from "../helpers/ws.js";

/**
 * Two real server processes on different ports sharing PostgreSQL and Redis: A runs in this
 * process, B is `src/main.ts` started as a child, exactly as a second instance behind a load balancer.
 */
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
let a: TestServer;
let bUrl: string;

beforeAll(async () => {
  a = await startTestServer({ REDIS_URL: redisUrl, RATE_LIMIT_MAX: "100000" });
  bUrl = (await startProcess(a.databaseUrl, { REDIS_URL: redisUrl })).url;
}, 120_000);

afterAll(async () => {
  await stopProcesses();
  await a.stop();
});

describe("two processes with Redis", () => {
  it("a report stored through A reaches a subscriber on B", async () => {
    const user = await signUp(a.url);
    const d = await addDevice(a.url, user);
    const live = await subscribe(bUrl, user.accessToken, `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { deviceId data } }`, { id: d.id });
    await http(a.url, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { t: 7 } } });
    expect(await live.next()).toEqual({ telemetryUpdated: { deviceId: d.id, data: { t: 7 } } });
    await live.dispose();
  });

  it("a command given on B wakes a long poll held by A, and polls on A see B's writes", async () => {
    const user = await signUp(a.url);
    const d = await addDevice(a.url, user);
    await http(a.url, "GET", `/telemetry/latest?device_token=${d.token}`); // A caches the device's state
    const held = http(a.url, "GET", `/telemetry/latest?device_token=${d.token}&wait=10`);
    await sleep(200);
    const started = Date.now();
    await gql(bUrl, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: d.id }, user.accessToken);
    const res = await held;
    expect(res.body.data).toEqual({ v0: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    // A report on B, then a poll on A: A's cached state was dropped by B's event.
    await http(bUrl, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { v0: 1, t: 3 } } });
    await sleep(100);
    expect((await http(a.url, "GET", `/telemetry/latest?device_token=${d.token}`)).body.data).toEqual({ v0: 1, t: 3 });
  });

  it("a token rotated on B fails on A at once, and a logout on B closes a socket on A", async () => {
    const user = await signUp(a.url);
    const d = await addDevice(a.url, user);
    expect((await http(a.url, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(200);
    await gql(bUrl, `mutation ($id: ID!) { rotateDeviceToken(id: $id) { token } }`, { id: d.id }, user.accessToken);
    await sleep(100);
    expect((await http(a.url, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(403);
    const live = await subscribe(a.url, user.accessToken, `subscription { telemetryUpdated { deviceId } }`);
    await gql(bUrl, `mutation { logout { alreadyLoggedOut } }`, {}, user.accessToken);
    expect(await live.closed).toEqual({ code: 4403, reason: "Access token was revoked: log in again" });
  });

  it("writes of one device through both processes are all kept, in order of version", async () => {
    const user = await signUp(a.url);
    const d = await addDevice(a.url, user);
    const posts = Array.from({ length: 40 }, (_, i) =>
      http(i % 2 ? a.url : bUrl, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { n: i } } }),
    );
    expect((await Promise.all(posts)).every((r) => r.status === 200)).toBe(true);
    const { rows } = await a.services.pool.query(`SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1 AND key = 'n'`, [d.id]);
    expect(rows[0].n).toBe(40);
    const state = await a.services.pool.query(`SELECT version FROM device_state WHERE device_id = $1`, [d.id]);
    expect(state.rows[0].version).toBe(40); // no lost update: every report bumped the version once
  });
});
