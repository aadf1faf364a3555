import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDevice, createUser, http, ISO_RE, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let base: string;
let device: { id: string; token: string };
let other: { id: string; token: string };

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  base = server.url;
  const owner = await createUser(server);
  device = await createDevice(server, owner);
  other = await createDevice(server, await createUser(server));
});
afterAll(() => server.stop());

const v2 = (id: string, body: unknown, headers?: Record<string, string>) => http(base, "POST", `/devices/${id}/telemetry`, { body, headers });

describe("POST /devices/{id}/telemetry (V2)", () => {
  it("stores the report and answers the current state", async () => {
    const res = await v2(device.id, { device_token: device.token, data: { v0: 1, v1: 0, temperature: 25.5, humidity: 60 } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["message", "device_id", "data", "timestamp"]);
    expect(res.body).toEqual({
      message: "ok",
      device_id: device.id,
      data: { v0: 1, v1: 0, temperature: 25.5, humidity: 60 },
      timestamp: expect.stringMatching(ISO_RE),
    });
    const { rows } = await server.services.pool.query(`SELECT key, num, val FROM telemetry WHERE device_id = $1 ORDER BY key`, [device.id]);
    expect(rows).toEqual([
      { key: "humidity", num: 60, val: null },
      { key: "temperature", num: 25.5, val: null },
      { key: "v0", num: 1, val: null },
      { key: "v1", num: 0, val: null },
    ]);
  });

  it("keeps strings, booleans, null and nested JSON", async () => {
    const data = { mode: "auto", relay: true, note: null, gps: { lat: 1.5, lon: [2, 3] } };
    const res = await v2(device.id, { device_token: device.token, data });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject(data);
    const { rows } = await server.services.pool.query(`SELECT key, num, val FROM telemetry WHERE device_id = $1 AND key = ANY($2) ORDER BY key`, [
      device.id,
      Object.keys(data),
    ]);
    expect(rows).toEqual([
      { key: "gps", num: null, val: { lat: 1.5, lon: [2, 3] } },
      { key: "mode", num: null, val: "auto" },
      { key: "note", num: null, val: null },
      { key: "relay", num: 1, val: true },
    ]);
  });

  it.each([
    ["Authorization: Bearer", (t: string) => ({ authorization: `Bearer ${t}` })],
    ["X-Device-Token", (t: string) => ({ "x-device-token": t })],
  ])("accepts the token from %s", async (_name, header) => {
    const res = await v2(device.id, { data: { h: 1 } }, header(device.token));
    expect(res.status).toBe(200);
  });

  it("refuses a wrong, missing or other device's token with 403", async () => {
    for (const body of [{ device_token: "nope", data: { a: 1 } }, { data: { a: 1 } }, { device_token: other.token, data: { a: 1 } }]) {
      const res = await v2(device.id, body);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: "Invalid device token" });
    }
  });

  it("answers 404 for an unknown device and 400 for a malformed id", async () => {
    const unknown = await v2("7d1f6a2e-0000-4000-8000-000000000000", { device_token: device.token, data: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ detail: "Device not found" });
    for (const id of ["123", "6123456abcdef12345678901", "'%20OR%201=1", "x".repeat(300)]) {
      const res = await v2(id, { device_token: device.token, data: {} });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: "device id is malformed: expected a UUID" });
    }
  });

  it("refuses bodies that are not JSON objects with 400 and content types that are not JSON with 415", async () => {
    const cases: Array<[unknown, number, string]> = [
      ["{bad json", 400, "Request body is not valid JSON"],
      ["[1,2]", 400, "Request body must be a JSON object"],
      ['"text"', 400, "Request body must be a JSON object"],
      [{ device_token: device.token }, 400, "data must be a JSON object of key/value pairs"],
      [{ device_token: device.token, data: [1, 2] }, 400, "data must be a JSON object of key/value pairs"],
      [{ device_token: device.token, data: "v0=1" }, 400, "data must be a JSON object of key/value pairs"],
      [{ device_token: 12345, data: {} }, 400, "device_token must be a string"],
    ];
    for (const [body, status, detail] of cases) {
      const res = await v2(device.id, body);
      expect({ status: res.status, body: res.body }).toEqual({ status, body: { detail } });
    }
    const text = await http(base, "POST", `/devices/${device.id}/telemetry`, {
      body: JSON.stringify({ device_token: device.token, data: { a: 1 } }),
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    expect(text.body).toEqual({ detail: "Content-Type must be application/json" });
    const empty = await http(base, "POST", `/devices/${device.id}/telemetry`, { body: "", headers: { "content-type": "application/json" } });
    expect(empty.status).toBe(400);
  });

  it("refuses unacceptable keys and values naming the key, and stores nothing of that report", async () => {
    const before = await server.services.pool.query(`SELECT count(*)::int AS n FROM telemetry`);
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, i]));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ok: 1, "bad key": 2 }, 'key "bad key" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -'],
      [{ ["k".repeat(65)]: 1 }, `key "${"k".repeat(40)}…" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -`],
      [{ "": 1 }, 'key "" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -'],
      [{ note: "x".repeat(1025) }, 'value of key "note" is longer than 1024 bytes'],
      [{ note: "é".repeat(513) }, 'value of key "note" is longer than 1024 bytes'],
      [many, "data has 257 keys; at most 256 are accepted per report"],
    ];
    for (const [data, detail] of cases) {
      const res = await v2(device.id, { device_token: device.token, data: { first: 1, ...data } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: detail.replace("257", String(Object.keys(data).length + 1)) });
    }
    const after = await server.services.pool.query(`SELECT count(*)::int AS n FROM telemetry`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("accepts exactly 256 keys and a 1 KiB string", async () => {
    const data: Record<string, unknown> = Object.fromEntries(Array.from({ length: 255 }, (_, i) => [`k${i}`, i]));
    data.note = "x".repeat(1024);
    const res = await v2(device.id, { device_token: device.token, data });
    expect(res.status).toBe(200);
  });

  it("answers 413 for a body over 64 KiB, before reading it as JSON", async () => {
    const big = JSON.stringify({ device_token: device.token, data: { blob: "x".repeat(70 * 1024) } });
    const res = await http(base, "POST", `/devices/${device.id}/telemetry`, { body: big });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: "Request body is larger than the limit" });
    // Not even valid JSON: the size alone decides.
    const junk = await http(base, "POST", `/devices/${device.id}/telemetry`, { body: "{".repeat(65 * 1024 + 1) });
    expect(junk.status).toBe(413);
  });
});

describe("POST /telemetry (legacy)", () => {
  it("answers the legacy shape with led from led, else v0, else 0", async () => {
    const d = await createDevice(server, await createUser(server));
    const post = (data: Record<string, unknown>) => http(base, "POST", "/telemetry", { body: { device_token: d.token, data } });

    const first = await post({ temperature: 20 });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(["message", "device_id", "led", "updated_data", "timestamp"]);
    expect(first.body).toEqual({
      message: "ok",
      device_id: d.id,
      led: 0,
      updated_data: { temperature: 20 },
      timestamp: expect.stringMatching(ISO_RE),
    });
    expect((await post({ v0: 1 })).body.led).toBe(1);
    const both = await post({ v0: 1, led: 0 });
    expect(both.body.led).toBe(0);
    expect(both.body.updated_data).toEqual({ temperature: 20, v0: 1, led: 0 });
  });

  it("finds the device by token only, 403 otherwise", async () => {
    const res = await http(base, "POST", "/telemetry", { body: { device_token: "wrong", data: { a: 1 } } });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ detail: "Invalid device token" });
  });
});

describe("GET /telemetry/latest", () => {
  it("gives a device that never reported an empty state with a null timestamp", async () => {
    const d = await createDevice(server, await createUser(server));
    const res = await http(base, "GET", `/telemetry/latest?device_token=${encodeURIComponent(d.token)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ device_id: d.id, data: {}, timestamp: null });
  });

  it("answers the latest reported state with its time", async () => {
    const d = await createDevice(server, await createUser(server));
    const posted = await v2(d.id, { device_token: d.token, data: { v0: 0, temperature: 21.5 } });
    const res = await http(base, "GET", `/telemetry/latest?device_token=${encodeURIComponent(d.token)}`);
    expect(res.body).toEqual({ device_id: d.id, data: { v0: 0, temperature: 21.5 }, timestamp: posted.body.timestamp });
    const viaHeader = await http(base, "GET", `/telemetry/latest`, { headers: { "x-device-token": d.token } });
    expect(viaHeader.body.device_id).toBe(d.id);
  });

  it("refuses a missing or wrong token with 403", async () => {
    for (const path of ["/telemetry/latest", "/telemetry/latest?device_token=nope", "/telemetry/latest?device_token="]) {
      const res = await http(base, "GET", path);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: "Invalid device token" });
    }
  });

  it("stops accepting a rotated token at once", async () => {
    const owner = await createUser(server);
    const d = await createDevice(server, owner);
    expect((await http(base, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(200);
    const fresh = await server.services.devices.rotateToken(d.id, owner);
    expect((await http(base, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(403);
    expect((await http(base, "GET", `/telemetry/latest?device_token=${fresh}`)).status).toBe(200);
  });
});

describe("service endpoints", () => {
  it("GET / points at the docs, health and GraphQL", async () => {
    const res = await http(base, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "ThingsNXT API", version: expect.any(String), docs: "/docs", health: "/health", graphql: "/graphql" });
  });

  it("GET /health says healthy with the database connected", async () => {
    const res = await http(base, "GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "healthy", database: "connected", timestamp: expect.stringMatching(ISO_RE) });
  });

  it("unknown paths are a 404 in the contract's shape", async () => {
    const res = await http(base, "GET", "/nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: "Not found: GET /nope" });
  });
});
