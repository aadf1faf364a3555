import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Topic } from "../../src/platform/event-bus.js";
import { VERSION } from "../../src/platform/version.js";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, ISO_RE, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/fixture.js";
import { WebhookReceiver as Receiver } from "../helpers/webhook-receiver.js";

// ---- helpers ----------------------------------------------------------------------------------

const hmac = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest("hex");

const DELIVERY = `id webhookId event payload status attempts lastStatusCode lastError lastDurationMs nextAttemptAt finishedAt createdAt updatedAt attemptLog { at statusCode durationMs error }`;
const DELIVERIES = `query ($id: ID!, $first: Int) { webhookDeliveries(webhookId: $id, first: $first) { ${DELIVERY} } }`;
const CREATE = `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id active } } }`;

async function createHook(base: string, a: Account, input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await gql(base, CREATE, { i: { events: ["all"], ...input } }, a.accessToken);
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return { id: res.data.createWebhook.webhook.id, secret: res.data.createWebhook.secret };
}

async function deliveries(base: string, a: Account, id: string): Promise<any[]> {
  const res = await gql(base, DELIVERIES, { id, first: 100 }, a.accessToken);
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.webhookDeliveries;
}

const report = (base: string, d: { id: string; token: string }, data: Record<string, unknown>) =>
  http(base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data } });

/** Finished deliveries of a webhook (waits until there are `n`). */
const finished = (base: string, a: Account, id: string, n = 1) =>
  eventually(`${n} finished deliveries`, async () => {
    const list = (await deliveries(base, a, id)).filter((d) => d.status !== "PENDING");
    return list.length >= n && list;
  });

// ---- one server with the receiver allow-listed --------------------------------------------------

describe("webhook deliveries", () => {
  let server: TestServer;
  let base: string;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await new Receiver().start();
    server = await startTestServer({
      RATE_LIMIT_MAX: "100000",
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32",
      WEBHOOK_RETRY_BASE_MS: "100", // 100, 300, 900 ms
      WEBHOOK_MAX_ATTEMPTS: "4",
      WEBHOOK_TIMEOUT_MS: "500",
      WEBHOOK_DISABLE_AFTER: "3",
      WEBHOOK_CACHE_MS: "0",
    });
    base = server.url;
  });
  afterAll(async () => {
    await server.stop();
    await rx.close();
  });

  it("POSTs {id, event, timestamp, data} signed with the webhook's secret, and logs it", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const hook = await createHook(base, a, { url: rx.on("/signed", (_q, r) => r.end("thanks")), events: ["telemetry_update"] });
    const before = Math.floor(Date.now() / 1000);
    expect((await report(base, d, { v0: 1, temperature: 25.5 })).status).toBe(200);
    const [got] = await eventually("the delivery", () => rx.at("/signed").length === 1 && rx.at("/signed"));
    const body = JSON.parse(got!.body);

    expect(got!.method).toBe("POST");
    expect(Object.keys(body)).toEqual(["id", "event", "timestamp", "data"]);
    expect(body).toEqual({
      id: expect.any(String),
      event: "telemetry_update",
      timestamp: expect.stringMatching(ISO_RE),
      data: { deviceId: d.id, data: { v0: 1, temperature: 25.5 } },
    });
    const ts = Number(got!.headers["x-webhook-timestamp"]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(got!.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": `ThingsNXT-Webhooks/${VERSION}`,
      "x-webhook-id": body.id,
      "x-webhook-event": "telemetry_update",
      "x-webhook-attempt": "1",
      "x-webhook-signature": `sha256=${hmac(hook.secret, got!.body)}`,
      "x-webhook-signature-v2": `t=${ts},v1=${hmac(hook.secret, `${ts}.${got!.body}`)}`,
    });
    expect(got!.headers["content-length"]).toBe(String(Buffer.byteLength(got!.body)));
    // A signature made with another secret does not match.
    expect(got!.headers["x-webhook-signature"]).not.toBe(`sha256=${hmac(`${hook.secret}x`, got!.body)}`);

    const [logged] = await finished(base, a, hook.id);
    expect(logged).toEqual({
      id: body.id,
      webhookId: hook.id,
      event: "telemetry_update",
      payload: body,
      status: "SUCCEEDED",
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      lastDurationMs: expect.any(Number),
      nextAttemptAt: null,
      finishedAt: expect.stringMatching(ISO_RE),
      createdAt: expect.stringMatching(ISO_RE),
      updatedAt: expect.stringMatching(ISO_RE),
      attemptLog: [{ at: expect.stringMatching(ISO_RE), statusCode: 200, durationMs: logged.lastDurationMs, error: null }],
    });
    // The same log through the Webhook type.
    const viaWebhook = await gql(base, `{ webhooks { id deliveries(first: 5) { id status attempts } } }`, {}, a.accessToken);
    expect(viaWebhook.data.webhooks).toEqual([{ id: hook.id, deliveries: [{ id: body.id, status: "SUCCEEDED", attempts: 1 }] }]);
  });

  it("retries: a receiver failing twice then answering 2xx gets one delivery, logged with 3 attempts", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const url = rx.on("/flaky", (_q, r, nth) => {
      r.statusCode = nth === 1 ? 500 : nth === 2 ? 503 : 204;
      r.end(nth < 3 ? `down for maintenance ${nth}` : undefined);
    });
    const hook = await createHook(base, a, { url, events: ["telemetry_update"] });
    await report(base, d, { t: 1 });
    const [delivery] = await finished(base, a, hook.id);
    const hits = rx.at("/flaky");
    expect(hits).toHaveLength(3);
    // The same delivery each time: same id, same bytes, same body signature.
    expect(new Set(hits.map((h) => h.headers["x-webhook-id"]))).toEqual(new Set([delivery.id]));
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    expect(new Set(hits.map((h) => h.headers["x-webhook-signature"])).size).toBe(1);
    expect(hits.map((h) => h.headers["x-webhook-attempt"])).toEqual(["1", "2", "3"]);
    // Backoff: 100 ms, then 300 ms (plus jitter).
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(95);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(295);
    expect(delivery).toMatchObject({ status: "SUCCEEDED", attempts: 3, lastStatusCode: 204, lastError: null, nextAttemptAt: null });
    expect(delivery.attemptLog.map((x: any) => [x.statusCode, x.error])).toEqual([
      [500, "HTTP 500: down for maintenance 1"],
      [503, "HTTP 503: down for maintenance 2"],
      [204, null],
    ]);
    expect(await deliveries(base, a, hook.id)).toHaveLength(1);
  });

  it("signs with the new secret as soon as the secret is changed", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const hook = await createHook(base, a, { url: rx.on("/rotate"), events: ["telemetry_update"] });
    await report(base, d, { n: 1 });
    await finished(base, a, hook.id, 1);
    const secret = "rotated-secret-0123456789";
    await gql(base, `mutation ($id: ID!, $s: String!) { updateWebhook(id: $id, input: { secret: $s }) { id } }`, { id: hook.id, s: secret }, a.accessToken);
    await report(base, d, { n: 2 });
    await finished(base, a, hook.id, 2);
    const [before, after] = rx.at("/rotate");
    expect(before!.headers["x-webhook-signature"]).toBe(`sha256=${hmac(hook.secret, before!.body)}`);
    expect(after!.headers["x-webhook-signature"]).toBe(`sha256=${hmac(secret, after!.body)}`);
  });

  it("reads at most a few KB of an answer and keeps a short excerpt of it", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const url = rx.on("/huge", (_q, r) => {
      r.statusCode = 500;
      r.end("x".repeat(1_000_000));
    });
    const hook = await createHook(base, a, { url, events: ["telemetry_update"] });
    await report(base, d, { t: 1 });
    const attempt = await eventually("the first attempt", async () => (await deliveries(base, a, hook.id))[0]?.attemptLog[0]);
    await gql(base, `mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id }, a.accessToken);
    expect(attempt).toMatchObject({ statusCode: 500, error: `HTTP 500: ${"x".repeat(200)}…` });
  });

  it("does not follow redirects: a 3xx is a failed attempt and the other URL is never hit", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const target = rx.on("/redirect-target", (_q, r) => r.end("should not be reached"));
    const url = rx.on("/redirect", (_q, r) => {
      r.writeHead(302, { location: target });
      r.end();
    });
    const hook = await createHook(base, a, { url, events: ["telemetry_update"] });
    await report(base, d, { t: 1 });
    const [delivery] = await finished(base, a, hook.id);
    expect(delivery).toMatchObject({ status: "FAILED", attempts: 4, lastStatusCode: 302, lastError: `HTTP 302: redirect to ${target} not followed` });
    expect(rx.at("/redirect")).toHaveLength(4);
    expect(rx.at("/redirect-target")).toHaveLength(0);
  });

  it("gives up on a receiver that does not answer within the timeout; ingest never waits for it", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const url = rx.on("/slow", (_q, r) => setTimeout(() => r.end("late"), 3000).unref());
    const hook = await createHook(base, a, { url, events: ["telemetry_update"] });
    const started = Date.now();
    expect((await report(base, d, { t: 1 })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(400); // answered while the receiver still holds the delivery
    const attempt = await eventually("the first attempt", async () => (await deliveries(base, a, hook.id))[0]?.attemptLog[0]);
    expect(attempt).toEqual({ at: expect.stringMatching(ISO_RE), statusCode: null, durationMs: expect.any(Number), error: "timed out after 500 ms" });
    expect(attempt.durationMs).toBeGreaterThanOrEqual(490);
    expect(attempt.durationMs).toBeLessThan(1500);
    await gql(base, `mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id }, a.accessToken); // no more retries
  });

  it("disables a webhook after 3 deliveries in a row failed for good, notifies once, and counts anew once enabled again", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const url = rx.on("/down", (_q, r) => {
      r.statusCode = 500;
      r.end("boom");
    });
    const hook = await createHook(base, a, { url, events: ["telemetry_update"] });
    for (let i = 0; i < 3; i++) await report(base, d, { t: i });
    await eventually("the webhook to be disabled", async () => {
      const res = await gql(base, `{ webhooks { id active } }`, {}, a.accessToken);
      return res.data.webhooks[0].active === false;
    });
    const list = await deliveries(base, a, hook.id);
    expect(list.map((x) => [x.status, x.attempts])).toEqual([
      ["FAILED", 4],
      ["FAILED", 4],
      ["FAILED", 4],
    ]);
    expect(rx.at("/down")).toHaveLength(12);

    const notes = await eventually("the notification", async () => {
      const res = await gql(base, `{ notifications { edges { node { type title message data } } } }`, {}, a.accessToken);
      const found = res.data.notifications.edges.map((e: any) => e.node).filter((n: any) => n.type === "webhook_disabled");
      return found.length > 0 && found;
    });
    await sleep(200);
    expect(notes).toEqual([
      {
        type: "webhook_disabled",
        title: "Webhook disabled",
        message: `${url} failed 3 deliveries in a row and was disabled (last error: HTTP 500: boom). Fix the receiver, then set the webhook active again.`,
        data: { webhookId: hook.id, url, failedDeliveries: 3, lastError: "HTTP 500: boom" },
      },
    ]);

    // Disabled: events make no delivery.
    await report(base, d, { t: 9 });
    await sleep(300);
    expect(await deliveries(base, a, hook.id)).toHaveLength(3);

    // Enabled again: one more failure does not disable it at once.
    await gql(base, `mutation ($id: ID!) { updateWebhook(id: $id, input: { active: true }) { id } }`, { id: hook.id }, a.accessToken);
    await report(base, d, { t: 10 });
    await finished(base, a, hook.id, 4);
    expect((await gql(base, `{ webhooks { active } }`, {}, a.accessToken)).data.webhooks[0].active).toBe(true);
  });

  it("filters by event and by device", async () => {
    const a = await signUp(base);
    const d1 = await addDevice(base, a, "one");
    const d2 = await addDevice(base, a, "two");
    const offline = await createHook(base, a, { url: rx.on("/f-offline"), events: ["device_offline"] });
    const onlyD1 = await createHook(base, a, { url: rx.on("/f-d1"), events: ["telemetry_update"], deviceId: d1.id });
    await createHook(base, a, { url: rx.on("/f-all"), events: ["all"] });
    await report(base, d2, { t: 2 });
    await report(base, d1, { t: 1 });
    server.services.bus.publish(Topic.DeviceStatusChanged, { deviceId: d1.id, ownerId: a.userId, status: "offline", timestamp: new Date().toISOString() });

    const events = (path: string) =>
      rx
        .at(path)
        .map((r) => `${JSON.parse(r.body).event}:${JSON.parse(r.body).data.deviceId}`)
        .sort();
    await eventually("every delivery to the all-webhook", () => rx.at("/f-all").length >= 5);
    await finished(base, a, offline.id);
    await finished(base, a, onlyD1.id);
    await sleep(300);
    expect(events("/f-all")).toEqual(
      [`device_offline:${d1.id}`, `device_online:${d1.id}`, `device_online:${d2.id}`, `telemetry_update:${d1.id}`, `telemetry_update:${d2.id}`].sort(),
    );
    expect(events("/f-offline")).toEqual([`device_offline:${d1.id}`]);
    expect(events("/f-d1")).toEqual([`telemetry_update:${d1.id}`]);
    expect(JSON.parse(rx.at("/f-offline")[0]!.body).data).toEqual({ deviceId: d1.id, status: "offline" });
  });

  it("sends state_confirmed when a report confirms a command", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const hook = await createHook(base, a, { url: rx.on("/confirmed"), events: ["state_confirmed"] });
    await report(base, d, { v0: 0 }); // nothing commanded: nothing confirmed
    const set = await gql(base, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: d.id }, a.accessToken);
    expect(set.errors).toBeUndefined();
    await report(base, d, { v0: 1, t: 20 });
    await finished(base, a, hook.id);
    await sleep(200);
    expect(rx.at("/confirmed").map((r) => JSON.parse(r.body))).toEqual([
      { id: expect.any(String), event: "state_confirmed", timestamp: expect.stringMatching(ISO_RE), data: { deviceId: d.id, confirmed: { v0: 1 } } },
    ]);
  });

  it("sends schedule_executed when a timer runs, filtered by the widget's device", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const other = await addDevice(base, a);
    const dash = (await gql(base, `mutation { createDashboard(input: {name: "D"}) { id } }`, {}, a.accessToken)).data.createDashboard.id;
    const widget = (
      await gql(
        base,
        `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id } }`,
        { i: { dashboardId: dash, deviceId: d.id, type: "led", label: "LED" } },
        a.accessToken,
      )
    ).data.createWidget.id;
    const hook = await createHook(base, a, { url: rx.on("/timer"), events: ["schedule_executed"], deviceId: d.id });
    await createHook(base, a, { url: rx.on("/timer-other"), events: ["schedule_executed"], deviceId: other.id });
    const timer = await gql(base, `mutation ($w: ID!) { createTimer(widgetId: $w, state: 1, durationSeconds: 1) { id } }`, { w: widget }, a.accessToken);
    expect(timer.errors).toBeUndefined();
    await finished(base, a, hook.id);
    await sleep(300);
    expect(rx.at("/timer").map((r) => JSON.parse(r.body))).toEqual([
      {
        id: expect.any(String),
        event: "schedule_executed",
        timestamp: expect.stringMatching(ISO_RE),
        data: expect.objectContaining({ scheduleId: timer.data.createTimer.id, widgetId: widget, kind: "TIMER", deviceId: d.id }),
      },
    ]);
    expect(rx.at("/timer-other")).toHaveLength(0);
  });

  it("enqueueFor (schedule_executed) follows the filters; enqueueTo reaches one of the user's webhooks only", async () => {
    const a = await signUp(base);
    const b = await signUp(base);
    const d1 = await addDevice(base, a);
    const d2 = await addDevice(base, a);
    const sched = await createHook(base, a, { url: rx.on("/sched"), events: ["schedule_executed"] });
    await createHook(base, a, { url: rx.on("/sched-d2"), events: ["schedule_executed"], deviceId: d2.id });
    const target = await createHook(base, a, { url: rx.on("/rule"), events: ["device_offline"] });
    const foreign = await createHook(base, b, { url: rx.on("/foreign"), events: ["all"] });
    const svc = server.services.webhookDeliveries;
    await svc.enqueueFor(a.userId, "schedule_executed", { scheduleId: "s1", state: 1 }, d1.id);
    await svc.enqueueTo(a.userId, target.id, "rule_fired", { ruleId: "r1" }, d1.id);
    await svc.enqueueTo(a.userId, foreign.id, "rule_fired", { ruleId: "r2" });
    await svc.enqueueFor(a.userId, "rule_fired", { ruleId: "r3" }); // not subscribable: no webhook gets it
    await finished(base, a, sched.id);
    await finished(base, a, target.id);
    await sleep(300);
    expect(JSON.parse(rx.at("/sched")[0]!.body)).toMatchObject({ event: "schedule_executed", data: { scheduleId: "s1", state: 1 } });
    expect(rx.at("/sched")).toHaveLength(1);
    expect(rx.at("/sched-d2")).toHaveLength(0);
    expect(rx.at("/rule").map((r) => JSON.parse(r.body).data)).toEqual([{ ruleId: "r1" }]);
    expect(rx.at("/foreign")).toHaveLength(0);
  });

  it("the log is the owner's: another user's or an unknown webhook is NOT_FOUND; first is 1..100", async () => {
    const a = await signUp(base);
    const b = await signUp(base);
    const hook = await createHook(base, a, { url: rx.on("/owned"), events: ["device_offline"] });
    for (const id of [hook.id, "not-a-uuid", "00000000-0000-4000-8000-000000000000"]) {
      const res = await gql(base, DELIVERIES, { id }, b.accessToken);
      expect(res.errors![0]).toMatchObject({ message: "Webhook not found", extensions: { code: "NOT_FOUND" } });
    }
    expect(codeOf(await gql(base, DELIVERIES, { id: hook.id }))).toBe("UNAUTHENTICATED");
    for (const first of [0, 101]) {
      expect((await gql(base, DELIVERIES, { id: hook.id, first }, a.accessToken)).errors![0]).toMatchObject({
        message: "first must be between 1 and 100",
        extensions: { code: "BAD_USER_INPUT" },
      });
    }
    expect((await gql(base, DELIVERIES, { id: hook.id }, a.accessToken)).data.webhookDeliveries).toEqual([]);
  });

  it("newest first, limited by first; deleting the webhook deletes its log", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const hook = await createHook(base, a, { url: rx.on("/many"), events: ["telemetry_update"] });
    for (let i = 0; i < 3; i++) {
      await report(base, d, { n: i });
      await finished(base, a, hook.id, i + 1);
    }
    const two = (await gql(base, DELIVERIES, { id: hook.id, first: 2 }, a.accessToken)).data.webhookDeliveries;
    expect(two.map((x: any) => x.payload.data.data.n)).toEqual([2, 1]);
    await gql(base, `mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id }, a.accessToken);
    const { rows } = await server.services.pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1`, [hook.id]);
    expect(rows[0].n).toBe(0);
  });
});

// ---- the SSRF guard without an allow-list -------------------------------------------------------

describe("the SSRF guard at delivery time", () => {
  let server: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await new Receiver().start();
    server = await startTestServer({ RATE_LIMIT_MAX: "100000", WEBHOOK_RETRY_BASE_MS: "50", WEBHOOK_CACHE_MS: "0" });
  });
  afterAll(async () => {
    await server.stop();
    await rx.close();
  });

  it("refuses loopback, names resolving to it, metadata and private addresses: logged, never sent, never retried", async () => {
    const base = server.url;
    const a = await signUp(base);
    const port = new URL(rx.base).port;
    const cases: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${port}/guarded`, /^address 127\.0\.0\.1 is loopback$/],
      [`http://localhost:${port}/guarded`, /^localhost resolves to (127\.0\.0\.1|::1), which is loopback$/],
      [`http://[::ffff:127.0.0.1]:${port}/guarded`, /^address ::ffff:7f00:1 is loopback \(IPv4 127\.0\.0\.1 in IPv6 form\)$/],
      [`http://2130706433:${port}/guarded`, /^address 127\.0\.0\.1 is loopback$/],
      ["http://169.254.169.254/latest/meta-data/", /^address 169\.254\.169\.254 is a cloud metadata endpoint$/],
      ["http://metadata.google.internal/computeMetadata/v1/", /^host metadata\.google\.internal is a cloud metadata endpoint$/],
      ["http://10.0.0.5:8080/hook", /^address 10\.0\.0\.5 is private$/],
    ];
    const hooks = [];
    for (const [url] of cases) hooks.push(await createHook(base, a, { url, events: ["schedule_executed"] }));
    await server.services.webhookDeliveries.enqueueFor(a.userId, "schedule_executed", { scheduleId: "s" });
    for (const [i, [url, error]] of cases.entries()) {
      const [delivery] = await finished(base, a, hooks[i]!.id);
      expect({ url, delivery }).toEqual({
        url,
        delivery: expect.objectContaining({
          status: "FAILED",
          attempts: 1,
          lastStatusCode: null,
          lastError: expect.stringMatching(error),
          nextAttemptAt: null,
        }),
      });
    }
    await sleep(300);
    for (const hook of hooks) expect((await deliveries(base, a, hook.id))[0].attempts).toBe(1);
    expect(rx.received).toHaveLength(0);
  });
});

// ---- exactly once: two processes, and a restart --------------------------------------------------

describe("exactly once across processes and restarts", () => {
  let rx: Receiver;
  const env = {
    RATE_LIMIT_MAX: "100000",
    WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32",
    WEBHOOK_CACHE_MS: "0",
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  };
  beforeAll(async () => {
    rx = await new Receiver().start();
  });
  afterAll(() => rx.close());

  it("two servers sharing the database and Redis deliver each event once", async () => {
    const a = await startTestServer(env);
    const b = await startTestServer(env, a.databaseUrl);
    try {
      const user = await signUp(a.url);
      const d = await addDevice(a.url, user);
      const hook = await createHook(a.url, user, { url: rx.on("/twice"), events: ["telemetry_update"] });
      await report(a.url, d, { from: "a" });
      await report(b.url, d, { from: "b" });
      await finished(a.url, user, hook.id, 2);
      await sleep(1000);
      const hits = rx.at("/twice").map((r) => JSON.parse(r.body));
      expect(hits.map((h) => h.data.data.from).sort()).toEqual(["a", "b"]);
      expect(new Set(hits.map((h) => h.id)).size).toBe(2);
      expect((await deliveries(b.url, user, hook.id)).map((x) => x.attempts)).toEqual([1, 1]);
    } finally {
      await b.close();
      await a.stop();
    }
  });

  it("a retry queued before a restart is made once by the next server", async () => {
    const slow = { ...env, WEBHOOK_RETRY_BASE_MS: "1500" };
    const a = await startTestServer(slow);
    let b: TestServer | undefined;
    try {
      const user = await signUp(a.url);
      const d = await addDevice(a.url, user);
      const url = rx.on("/restart", (_q, r, nth) => {
        r.statusCode = nth === 1 ? 502 : 200;
        r.end();
      });
      const hook = await createHook(a.url, user, { url, events: ["telemetry_update"] });
      await report(a.url, d, { t: 1 });
      const first = await eventually("the first attempt", async () => {
        const [x] = await deliveries(a.url, user, hook.id);
        return x?.attempts === 1 && x;
      });
      expect(first).toMatchObject({ status: "PENDING", lastStatusCode: 502, nextAttemptAt: expect.stringMatching(ISO_RE) });
      await a.close(); // the retry is queued, not yet due
      await sleep(Math.max(0, Date.parse(first.nextAttemptAt) - Date.now()) + 200);
      expect(rx.at("/restart")).toHaveLength(1);
      b = await startTestServer(slow, a.databaseUrl);
      const [done] = await finished(b.url, user, hook.id);
      await sleep(1000);
      expect(done).toMatchObject({ id: first.id, status: "SUCCEEDED", attempts: 2, lastStatusCode: 200 });
      const hits = rx.at("/restart");
      expect(hits).toHaveLength(2);
      expect(hits.map((h) => h.headers["x-webhook-id"])).toEqual([first.id, first.id]);
    } finally {
      await b?.close();
      await a.stop();
    }
  });
});
