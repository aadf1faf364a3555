import { describe, expect, it } from "vitest";
import { FakeFirmware } from "../helpers/firmware.js";
import { addDevice, gql, signUp } from "../helpers/graphql.js";
import { http, sleep, startTestServer } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";
import { readFrames } from "./clients.js";
import { connect, subscribe } from "../helpers/ws.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000", OFFLINE_TIMEOUT: "2", LAST_SEEN_FLUSH_SECONDS: "1" });

const post = (d: { id: string; token: string }, data: object) =>
  http(ctx.base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data } });

describe("telemetryUpdated", () => {
  it("delivers the owner's reports after they are stored, and nobody else's", async () => {
    const mine = await addDevice(ctx.base, ctx.alice);
    const theirs = await addDevice(ctx.base, ctx.bob);
    const all = await subscribe(ctx.base, ctx.alice.accessToken, `subscription { telemetryUpdated { deviceId data timestamp } }`);
    const one = await subscribe(ctx.base, ctx.alice.accessToken, `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { deviceId data } }`, {
      id: mine.id,
    });
    const bobs = await subscribe(ctx.base, ctx.bob.accessToken, `subscription { telemetryUpdated { deviceId } }`);
    await post(theirs, { t: 1 });
    const res = await post(mine, { temperature: 21.5 });
    const event = await all.next();
    expect(event).toEqual({ telemetryUpdated: { deviceId: mine.id, data: { temperature: 21.5 }, timestamp: res.body.timestamp } });
    expect(await one.next()).toEqual({ telemetryUpdated: { deviceId: mine.id, data: { temperature: 21.5 } } });
    expect(await bobs.next()).toEqual({ telemetryUpdated: { deviceId: theirs.id } });
    await sleep(100);
    expect(all.events).toHaveLength(1); // ctx.bob's report never reached ctx.alice
    expect(bobs.events).toHaveLength(1); // and ctx.alice's never reached ctx.bob
    await Promise.all([all.dispose(), one.dispose(), bobs.dispose()]);
  });

  it("refuses another user's deviceId at subscribe time with NOT_FOUND", async () => {
    const theirs = await addDevice(ctx.base, ctx.bob);
    const live = await subscribe(ctx.base, ctx.alice.accessToken, `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { deviceId } }`, { id: theirs.id });
    const error = await live.error;
    expect(error[0]).toMatchObject({ message: "Device not found", extensions: { code: "NOT_FOUND" } });
    await live.dispose();
  });
});

describe("deviceStateChanged and deviceStatusChanged", () => {
  it("shows a command, then its confirmation by the device", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const fw = new FakeFirmware(ctx.base, d.id, d.token);
    await fw.report();
    const live = await subscribe(
      ctx.base,
      ctx.alice.accessToken,
      `subscription ($id: ID) { deviceStateChanged(deviceId: $id) { deviceId desired merged confirmed version } }`,
      { id: d.id },
    );
    await gql(ctx.base, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: d.id }, ctx.alice.accessToken);
    const commanded = (await live.next()).deviceStateChanged;
    expect(commanded).toMatchObject({ deviceId: d.id, desired: { v0: 1 }, confirmed: [] });
    await fw.poll();
    await sleep(30);
    await fw.report();
    const confirmed = (await live.next()).deviceStateChanged;
    expect(confirmed).toMatchObject({ desired: {}, confirmed: ["v0"], merged: { v0: 1 } });
    expect(confirmed.version).toBeGreaterThan(commanded.version);
    await live.dispose();
  });

  it("reports ONLINE on first contact and OFFLINE after the timeout", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const live = await subscribe(
      ctx.base,
      ctx.alice.accessToken,
      `subscription ($id: ID) { deviceStatusChanged(deviceId: $id) { deviceId status timestamp } }`,
      { id: d.id },
    );
    await http(ctx.base, "GET", `/telemetry/latest?device_token=${d.token}`);
    expect((await live.next()).deviceStatusChanged).toMatchObject({ deviceId: d.id, status: "ONLINE" });
    expect((await live.next(8000)).deviceStatusChanged).toMatchObject({ deviceId: d.id, status: "OFFLINE" });
    await live.dispose();
  });
});

describe("socket authentication", () => {
  it("closes with 4401 without a token and 4403 with a bad one", async () => {
    const none = connect(ctx.base, undefined);
    expect(await none.closed).toEqual({ code: 4401, reason: "Sign in: this operation needs an access token" });
    const bad = connect(ctx.base, { authorization: "Bearer nonsense" });
    expect(await bad.closed).toEqual({ code: 4403, reason: "Access token is invalid" });
    const alsoToken = connect(ctx.base, { token: ctx.alice.accessToken });
    const acked = await Promise.race([new Promise((r) => alsoToken.client.on("connected", () => r("ok"))), alsoToken.closed]);
    expect(acked).toBe("ok");
    await Promise.all([none.client.dispose(), bad.client.dispose(), alsoToken.client.dispose()]);
  });

  it("closes the user's sockets with 4403 when they log out", async () => {
    const a = await signUp(ctx.base);
    const live = await subscribe(ctx.base, a.accessToken, `subscription { telemetryUpdated { deviceId } }`);
    await gql(ctx.base, `mutation { logout { alreadyLoggedOut } }`, {}, a.accessToken);
    expect(await live.closed).toEqual({ code: 4403, reason: "Access token was revoked: log in again" });
  });

  it("closes a socket with 4403 when its access token expires", async () => {
    const short = await startTestServer({ ACCESS_TOKEN_TTL_SECONDS: "10" }, ctx.server.databaseUrl);
    try {
      const a = await signUp(short.url);
      const live = await subscribe(short.url, a.accessToken, `subscription { telemetryUpdated { deviceId } }`);
      const started = Date.now();
      expect(await live.closed).toEqual({ code: 4403, reason: "Access token expired: refresh it" });
      expect(Date.now() - started).toBeGreaterThan(5000);
    } finally {
      await short.close();
    }
  }, 20_000);
});

describe("notificationAdded", () => {
  it("pushes the caller's new notifications only", async () => {
    const a = await signUp(ctx.base);
    const b = await signUp(ctx.base);
    const live = await subscribe(ctx.base, a.accessToken, `subscription { notificationAdded { id type title message data read createdAt } }`);
    const other = await subscribe(ctx.base, b.accessToken, `subscription { notificationAdded { id } }`);
    const stored = await ctx.server.services.notifications.notify(a.userId, {
      type: "device_offline",
      title: "Kitchen is offline",
      message: "No contact for 60 s",
      data: { deviceId: "x" },
    });
    const event = (await live.next()).notificationAdded;
    expect(event).toEqual({
      id: stored!.id,
      type: "device_offline",
      title: "Kitchen is offline",
      message: "No contact for 60 s",
      data: { deviceId: "x" },
      read: false,
      createdAt: stored!.createdAt.toISOString(),
    });
    await sleep(100);
    expect(other.events).toEqual([]);
    await Promise.all([live.dispose(), other.dispose()]);
  });
});

describe("Server-Sent Events", () => {
  it("serves the subscriptions over graphql-sse with the Bearer token", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const response = await fetch(`${ctx.base}/graphql/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${ctx.alice.accessToken}` },
      body: JSON.stringify({ query: `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { deviceId data } }`, variables: { id: d.id } }),
    });
    expect(response.status).toBe(200);
    const frames = readFrames(response, 3000, 1);
    await sleep(200);
    await post(d, { h: 40 });
    expect((await frames)[0]).toEqual({ event: "next", data: { data: { telemetryUpdated: { deviceId: d.id, data: { h: 40 } } } } });
  });

  it("refuses a stream without a valid token with 401", async () => {
    const response = await fetch(`${ctx.base}/graphql/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: `subscription { telemetryUpdated { deviceId } }` }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe("UNAUTHENTICATED");
  });

  it("GET /notifications/stream sends initial, then each new notification", async () => {
    const a = await signUp(ctx.base);
    await ctx.server.services.notifications.notify(a.userId, { type: "info", title: "first", message: "m1" });
    const response = await fetch(`${ctx.base}/notifications/stream`, { headers: { authorization: `Bearer ${a.accessToken}` } });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const frames = readFrames(response, 3000, 2);
    await sleep(200);
    await ctx.server.services.notifications.notify(a.userId, { type: "device_offline", title: "second", message: "m2", data: { deviceId: "d" } });
    const [initial, next] = await frames;
    expect(initial!.event).toBe("initial");
    expect(initial!.data.unread_count).toBe(1);
    expect(initial!.data.notifications.map((n: { title: string }) => n.title)).toEqual(["first"]);
    expect(next).toMatchObject({ event: "notification", data: { title: "second", type: "device_offline", read: false, data: { deviceId: "d" } } });
    expect((await fetch(`${ctx.base}/notifications/stream`)).status).toBe(401);
  });
});
