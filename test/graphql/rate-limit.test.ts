import { request as rawRequest } from "node:http";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDevice, createUser, http, startTestServer, type TestServer } from "../helpers/server.js";

/** node:http sends the path exactly as written (fetch would normalise `..` and case away). */
function raw(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = rawRequest({ host: url.hostname, port: url.port, path, method: "GET", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rate limiting (in memory)", () => {
  let server: TestServer;
  let logs = "";
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _enc, cb) => ((logs += chunk.toString()), cb()) });
    server = await startTestServer({ RATE_LIMIT_MAX: "5", RATE_LIMIT_WINDOW_SECONDS: "60", LOG_LEVEL: "debug" }, undefined, sink);
  });
  afterAll(() => server.stop());

  it("counts per device: one device's budget does not starve another behind the same address", async () => {
    const owner = await createUser(server);
    const a = await createDevice(server, owner);
    const b = await createDevice(server, owner);
    for (let i = 0; i < 5; i++) expect((await http(server.url, "GET", `/telemetry/latest?device_token=${a.token}`)).status).toBe(200);
    const limited = await http(server.url, "GET", `/telemetry/latest?device_token=${a.token}`);
    expect(limited.status).toBe(429);
    expect(limited.body.detail).toMatch(/^Rate limit exceeded: 5 requests per window; retry in /);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("ratelimit-limit")).toBe("5");
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    // The same device by another endpoint and token carrier shares its budget.
    const v2 = await http(server.url, "POST", `/devices/${a.id}/telemetry`, { body: { data: { x: 1 } }, headers: { "x-device-token": a.token } });
    expect(v2.status).toBe(429);
    expect((await http(server.url, "GET", `/telemetry/latest?device_token=${b.token}`)).status).toBe(200);
  });

  it("exempts exactly /, /health and their exact paths; case, slashes and dot segments exempt nothing", async () => {
    // Use up this address's budget with requests that are not device requests.
    for (let i = 0; i < 5; i++) await raw(server.url, "/nope");
    expect((await raw(server.url, "/nope")).status).toBe(429);
    for (let i = 0; i < 10; i++) {
      expect((await raw(server.url, "/health")).status).toBe(200);
      expect((await raw(server.url, "/")).status).toBe(200);
    }
    for (const trick of ["/HEALTH", "/health/", "/Health", "/health/../telemetry", "//health", "/health%2F..%2Ftelemetry"]) {
      expect({ trick, status: (await raw(server.url, trick)).status }).toEqual({ trick, status: 429 });
    }
    // A wrong token counts against the address, not against some device.
    expect((await raw(server.url, "/telemetry/latest?device_token=guess")).status).toBe(429);
  });

  it("ignores X-Forwarded-For when TRUST_PROXY is 0", async () => {
    expect((await raw(server.url, "/nope", { "x-forwarded-for": "203.0.113.9" })).status).toBe(429);
  });

  it("never writes a device token into a log line", async () => {
    const owner = await createUser(server);
    const d = await createDevice(server, owner);
    await http(server.url, "GET", `/telemetry/latest?device_token=${d.token}`);
    await http(server.url, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { x: 1 } } });
    await http(server.url, "POST", "/telemetry", { body: { device_token: d.token, data: { "bad key": 1 } } });
    await http(server.url, "GET", `/nope?device_token=${d.token}`);
    await http(server.url, "GET", "/telemetry/latest", { headers: { authorization: `Bearer ${d.token}` } });
    await new Promise((r) => setTimeout(r, 50));
    expect(logs).toContain("device_token=[redacted]"); // the request lines are there...
    expect(logs).not.toContain(d.token); // ...the token is not
  });
});

describe("rate limiting behind a proxy", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_MAX: "3", TRUST_PROXY: "1" });
  });
  afterAll(() => server.stop());

  it("trusts exactly one hop of X-Forwarded-For", async () => {
    const client = (xff: string) => raw(server.url, "/nope", { "x-forwarded-for": xff });
    for (let i = 0; i < 3; i++) expect((await client("198.51.100.1")).status).toBe(404);
    expect((await client("198.51.100.1")).status).toBe(429);
    expect((await client("198.51.100.2")).status).toBe(404);
    // A client cannot pick its own identity: only the address our proxy appended (rightmost) counts.
    expect((await client("10.9.9.9, 198.51.100.1")).status).toBe(429);
  });
});

describe("rate limiting with Redis", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const redis = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    a = await startTestServer({ RATE_LIMIT_MAX: "4", REDIS_URL: redis });
    b = await startTestServer({ RATE_LIMIT_MAX: "4", REDIS_URL: redis }, a.databaseUrl);
  });
  afterAll(async () => {
    await b.close();
    await a.stop();
  });

  it("shares one budget between processes", async () => {
    const d = await createDevice(a, await createUser(a));
    const poll = (s: TestServer) => http(s.url, "GET", `/telemetry/latest?device_token=${d.token}`);
    expect((await poll(a)).status).toBe(200);
    expect((await poll(b)).status).toBe(200);
    expect((await poll(a)).status).toBe(200);
    expect((await poll(b)).status).toBe(200);
    const limited = await poll(a);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).not.toBeNull();
    expect((await poll(b)).status).toBe(429);
  });
});
