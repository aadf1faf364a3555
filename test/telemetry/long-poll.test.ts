import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let alice: Account;
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  alice = await signUp(server.url);
});
afterAll(() => server.stop());

const setState = (id: string, desired: object) =>
  gql(server.url, `mutation ($id: ID!, $d: JSONObject!) { setDeviceState(deviceId: $id, desired: $d) { version } }`, { id, d: desired }, alice.accessToken);

describe("GET /telemetry/latest?wait=N (long poll)", () => {
  it("without wait behaves as before, and advertises the long poll in a header", async () => {
    const d = await addDevice(server.url, alice);
    const res = await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`);
    expect(res.body).toEqual({ device_id: d.id, data: {}, timestamp: null });
    expect(res.headers.get("x-long-poll-max")).toBe("30");
  });

  it("holds the request until a command arrives, then answers it at once", async () => {
    const d = await addDevice(server.url, alice);
    const started = Date.now();
    const pending = http(server.url, "GET", `/telemetry/latest?device_token=${d.token}&wait=20`);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.services.longPoll.waiting).toBe(1);
    const commandedAt = Date.now();
    await setState(d.id, { v0: 1 });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ v0: 1 });
    expect(Date.now() - commandedAt).toBeLessThan(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(server.services.longPoll.waiting).toBe(0);
  });

  it("answers at once when a command is already waiting, and only once per command", async () => {
    const d = await addDevice(server.url, alice);
    await setState(d.id, { v1: 1 });
    const started = Date.now();
    const first = await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}&wait=5`);
    expect(first.body.data).toEqual({ v1: 1 });
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 50)); // the delivery mark is written in the background
    // Delivered: the next long poll waits (here for its whole 1 s) and still carries the pending command.
    const second = await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}&wait=1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(second.body.data).toEqual({ v1: 1 });
  });

  it("returns the current state when nothing happens during the wait", async () => {
    const d = await addDevice(server.url, alice);
    await http(server.url, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { t: 5 } } });
    const started = Date.now();
    const res = await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}&wait=1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(res.body.data).toEqual({ t: 5 });
  });

  it("refuses a wait that is not a whole number, and stops waiting when the client leaves", async () => {
    const d = await addDevice(server.url, alice);
    for (const wait of ["-1", "abc", "1.5"]) {
      const res = await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}&wait=${wait}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: "wait must be a whole number of seconds" });
    }
    const abort = new AbortController();
    const gone = fetch(`${server.url}/telemetry/latest?device_token=${d.token}&wait=30`, { signal: abort.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.services.longPoll.waiting).toBe(1);
    abort.abort();
    await gone;
    await new Promise((r) => setTimeout(r, 200));
    expect(server.services.longPoll.waiting).toBe(0);
  });
});
