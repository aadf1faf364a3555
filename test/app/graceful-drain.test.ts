import { afterAll, beforeAll, expect, it } from "vitest";
import { createDevice, createUser, http, sleep, startTestServer, type TestServer } from "../helpers/server.js";

/**
 * SIGTERM (server.close(), which main.ts calls on it): readiness fails first, held long polls are
 * answered with the current state instead of being reset, in-flight and new requests during the grace
 * are served, and only then does the server stop.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SHUTDOWN_GRACE_SECONDS: "1", RATE_LIMIT_MAX: "100000" });
});
afterAll(() => server.stop());

it("drains: readiness 503, long polls answered, requests served during the grace, then closed", async () => {
  const device = await createDevice(server, await createUser(server));
  const report = (n: number) => http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n } } });
  expect((await report(1)).status).toBe(200);
  const held = Array.from({ length: 5 }, () => http(server.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}&wait=25`));
  await sleep(300);
  expect(server.services.longPoll.waiting).toBe(5);

  const started = Date.now();
  const closing = server.close();
  const polls = await Promise.all(held);
  expect(Date.now() - started).toBeLessThan(1000); // answered, not held until the timeout or reset
  for (const poll of polls) expect(poll).toMatchObject({ status: 200, body: { device_id: device.id, data: { n: 1 } } });

  const ready = await http(server.url, "GET", "/health/ready");
  expect(ready).toMatchObject({ status: 503, body: { status: "draining" } });
  expect((await report(2)).status).toBe(200); // still served during the grace
  const quick = await http(server.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}&wait=25`);
  expect(quick.body.data).toEqual({ n: 2 }); // a poll arriving now does not wait
  await closing;
  await expect(fetch(`${server.url}/health`)).rejects.toThrow();
});
