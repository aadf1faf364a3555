import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/fixture.js";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, startTestServer, type TestServer } from "../helpers/server.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

/** One owner's slow receivers cannot hold every delivery slot of a process. */
let server: TestServer;
let rx: WebhookReceiver;
beforeAll(async () => {
  rx = await new WebhookReceiver().start();
  server = await startTestServer({ RATE_LIMIT_MAX: "100000", WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32", WEBHOOK_CONCURRENCY: "2", JOB_POLL_MS: "100" });
});
afterAll(async () => {
  await server?.stop();
  await rx?.close();
});

async function hookedDevice(account: Account, path: string) {
  await gql(
    server.url,
    `mutation ($url: String!) { createWebhook(input: { url: $url, events: [telemetry_update] }) { webhook { id } } }`,
    { url: `${rx.base}${path}` },
    account.accessToken,
  );
  return addDevice(server.url, account);
}

describe("webhook delivery slots", () => {
  it("another owner's delivery is sent while one owner's receiver is slow", async () => {
    const [slowOwner, other] = await Promise.all([signUp(server.url), signUp(server.url)]);
    rx.on("/slow", (_q, r) => setTimeout(() => r.end("ok"), 1500));
    const slow = await hookedDevice(slowOwner, "/slow");
    const fast = await hookedDevice(other, "/fast");
    for (let i = 0; i < 6; i++) await http(server.url, "POST", `/devices/${slow.id}/telemetry`, { body: { device_token: slow.token, data: { i } } });
    await eventually("the first slow delivery", () => rx.at("/slow").length > 0);
    await http(server.url, "POST", `/devices/${fast.id}/telemetry`, { body: { device_token: fast.token, data: { x: 1 } } });
    await eventually("three slow deliveries", () => rx.at("/slow").length >= 3, 15_000);
    // With both slots held by the slow owner, /fast would wait for all six (about 4.5 s).
    expect(rx.at("/fast")).toHaveLength(1);
    expect(rx.at("/fast")[0]!.at).toBeLessThan(rx.at("/slow")[2]!.at);
    await eventually("all six slow deliveries", () => rx.at("/slow").length === 6, 15_000);
  }, 30_000);
});
