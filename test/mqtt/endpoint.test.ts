import { connect as netConnect } from "node:net";
import type { MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { addDevice, gql } from "../helpers/graphql.js";
import { http, sleep } from "../helpers/server.js";
import { subscribe } from "../helpers/ws.js";
import { connectDevice, disconnectReason, inbox, mqttPortOf, refusal } from "./helpers.js";

/** The device contract of docs/mqtt.md against the real server, with mqtt.js as the device. */
const t = useTestServer({ MQTT_PORT: "0", OFFLINE_TIMEOUT: "60" });
let device: { id: string; token: string };
let other: { id: string; token: string };
const topic = (id: string, leaf: string) => `thingsnxt/device/${id}/${leaf}`;
/** The SUBACK's codes, failures included (mqtt.js rejects a SUBACK holding any failure). */
const grantedCodes = (client: MqttClient, filters: string[]) =>
  new Promise<number[]>((resolve) =>
    client.subscribe(filters, { qos: 1 }, (error, granted) => {
      const packet = (error as { packet?: { granted: number[] } } | null)?.packet;
      resolve(packet ? packet.granted : granted!.map((g) => g.qos));
    }),
  );
const latest = (token: string) => http(t.base, "GET", `/telemetry/latest?device_token=${encodeURIComponent(token)}`);

beforeAll(async () => {
  device = await addDevice(t.base, t.alice, "mqtt-board");
  other = await addDevice(t.base, t.bob, "bobs-board");
});

describe("authentication at CONNECT", () => {
  it("takes the token as username with an empty password, or the device id as username and the token as password", async () => {
    for (const options of [{ username: device.token }, { username: device.id, password: device.token }]) {
      for (const protocolVersion of [4, 5] as const) {
        const client = await connectDevice(t.server, { ...options, protocolVersion });
        expect(client.connected).toBe(true);
        await client.endAsync();
      }
    }
  });

  it("refuses a wrong token (3.1.1: 4, 5: 0x86) and another device's token for a named id (5, 0x87)", async () => {
    expect(await refusal(t.server, { username: "not-a-token", protocolVersion: 4 })).toBe(4);
    expect(await refusal(t.server, { username: "not-a-token", protocolVersion: 5 })).toBe(0x86);
    expect(await refusal(t.server, { protocolVersion: 5 })).toBe(0x86);
    expect(await refusal(t.server, { username: device.id, password: other.token, protocolVersion: 4 })).toBe(5);
    expect(await refusal(t.server, { username: device.id, password: other.token, protocolVersion: 5 })).toBe(0x87);
  });
});

describe("telemetry", () => {
  it("a QoS 1 publish is acknowledged after its commit, and reaches history and telemetryUpdated", async () => {
    const live = await subscribe(t.base, t.alice.accessToken, `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { deviceId data } }`, {
      id: device.id,
    });
    const client = await connectDevice(t.server, { username: device.token });
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { temperature: 21.5, v0: 0 } }), { qos: 1 });
    // The PUBACK came: the report is committed, so a poll sees it at once.
    expect((await latest(device.token)).body.data).toMatchObject({ temperature: 21.5, v0: 0 });
    expect((await live.next()).telemetryUpdated).toEqual({ deviceId: device.id, data: { temperature: 21.5, v0: 0 } });
    const history = await gql(
      t.base,
      `query ($id: ID!) { telemetryHistory(deviceId: $id, key: "temperature", from: "2000-01-01T00:00:00Z") { value } }`,
      { id: device.id },
      t.alice.accessToken,
    );
    expect(history.errors).toBeUndefined();
    expect(history.data.telemetryHistory.map((p: { value: unknown }) => p.value)).toContain(21.5);
    // The old backend's payload, with its token, is taken too.
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ device_token: device.token, data: { humidity: 40 } }), { qos: 1 });
    expect((await latest(device.token)).body.data).toMatchObject({ humidity: 40 });
    await client.endAsync();
    await live.dispose();
  });

  it("MQTT 5 gets the reason of a refused report in its PUBACK, and nothing is stored", async () => {
    const client = await connectDevice(t.server, { username: device.token, protocolVersion: 5 });
    const before = (await latest(device.token)).body;
    const send = (payload: string) => client.publishAsync(topic(device.id, "telemetry"), payload, { qos: 1 });
    for (const [payload, code] of [
      ["{not json", 0x99],
      [JSON.stringify({ data: [1, 2] }), 0x99],
      [JSON.stringify({ data: { s: "a\u0000b" } }), 0x99],
      [JSON.stringify({ device_token: other.token, data: { x: 1 } }), 0x87],
    ] as const) {
      await expect(send(payload)).rejects.toMatchObject({ code });
    }
    expect((await latest(device.token)).body).toEqual(before);
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it("ends the session of a device publishing to another device's topic (MQTT 5: 0x87)", async () => {
    const client = await connectDevice(t.server, { username: device.token, protocolVersion: 5 });
    const ended = disconnectReason(client);
    client.publish(topic(other.id, "telemetry"), JSON.stringify({ data: { x: 1 } }), { qos: 0 });
    expect(await ended).toBe(0x87);
    expect((await latest(other.token)).body.data).toEqual({});
    client.end(true);
  });

  it("refuses QoS 2 (0x9B) and a packet over the body limit (0x95) by ending the session", async () => {
    const a = await connectDevice(t.server, { username: device.token, protocolVersion: 5 });
    const endedA = disconnectReason(a);
    a.publish(topic(device.id, "telemetry"), JSON.stringify({ data: { x: 1 } }), { qos: 2 });
    expect(await endedA).toBe(0x9b);
    a.end(true);
    const b = await connectDevice(t.server, { username: device.token, protocolVersion: 5 });
    const endedB = disconnectReason(b);
    b.publish(topic(device.id, "telemetry"), JSON.stringify({ data: { s: "x".repeat(70 * 1024) } }), { qos: 0 });
    expect(await endedB).toBe(0x95);
    b.end(true);
    expect((await latest(device.token)).body.data.x).toBeUndefined();
  });
});

describe("subscriptions and commands", () => {
  it("refuses filters beyond the device's own topics (3.1.1: 0x80, 5: 0x87) and grants its own", async () => {
    const v4 = await connectDevice(t.server, { username: device.token });
    expect(await grantedCodes(v4, [topic(other.id, "state"), "#", topic(device.id, "commands")])).toEqual([0x80, 0x80, 1]);
    await v4.endAsync();
    const v5 = await connectDevice(t.server, { username: device.token, protocolVersion: 5 });
    expect(await grantedCodes(v5, [topic(other.id, "#"), `thingsnxt/device/+/state`, topic(device.id, "#")])).toEqual([0x87, 0x87, 1]);
    await v5.endAsync();
  });

  it("sends the merged state on subscription, then a widget switch on state and commands; the PUBACK delivers it", async () => {
    const client = await connectDevice(t.server, { username: device.token, protocolVersion: 5 });
    const box = inbox(client);
    await client.subscribeAsync([topic(device.id, "state"), topic(device.id, "commands")], { qos: 1 });
    const first = await box.next(topic(device.id, "state"));
    expect(first.body).toEqual((await latest(device.token)).body); // exactly as GET /telemetry/latest
    expect(first.qos).toBe(1);

    const set = await gql(
      t.base,
      `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`,
      { id: device.id },
      t.alice.accessToken,
    );
    expect(set.errors).toBeUndefined();
    const state = await box.next(topic(device.id, "state"));
    expect(state.body).toMatchObject({ device_id: device.id, data: { v0: 1 } });
    const command = await box.next(topic(device.id, "commands"));
    expect(command.body).toEqual({ type: "led", state: 1, virtual_pin: "v0", timestamp: expect.any(String) });
    // mqtt.js acknowledged both: the command counts as delivered.
    await eventually("the command marked delivered", async () => (await t.server.services.state.get(device.id)).desired.v0?.deliveredAt);
    // Its own sensor report is not sent back; the confirmation of v0 is (desired changed).
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { temperature: 22 } }), { qos: 1 });
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { v0: 1 } }), { qos: 1 });
    const confirmed = await box.next(topic(device.id, "state"));
    expect(confirmed.body.data).toMatchObject({ v0: 1, temperature: 22 });
    expect(box.messages.filter((m) => m.topic.endsWith("/state"))).toHaveLength(3);
    await client.endAsync();
  });

  it("a rotated token ends the session at once, and the old token is refused", async () => {
    const mine = await addDevice(t.base, t.alice, "to-rotate");
    const client = await connectDevice(t.server, { username: mine.token, protocolVersion: 5 });
    const ended = disconnectReason(client);
    const rotated = await gql(t.base, `mutation ($id: ID!) { rotateDeviceToken(id: $id) { token } }`, { id: mine.id }, t.alice.accessToken);
    expect(rotated.errors).toBeUndefined();
    expect(await ended).toBe(0x87);
    client.end(true);
    expect(await refusal(t.server, { username: mine.token, protocolVersion: 5 })).toBe(0x86);
    const again = await connectDevice(t.server, { username: rotated.data.rotateDeviceToken.token });
    await again.endAsync();
  });
});

describe("presence", () => {
  const status = (id: string) =>
    gql(t.base, `query ($id: ID!) { device(id: $id) { status connection { transport connected since } } }`, { id }, t.alice.accessToken).then(
      (r) => r.data.device,
    );

  it("online at CONNECT, offline as soon as the connection ends, one event per transition", async () => {
    const mine = await addDevice(t.base, t.alice, "presence");
    const live = await subscribe(t.base, t.alice.accessToken, `subscription ($id: ID) { deviceStatusChanged(deviceId: $id) { status } }`, { id: mine.id });
    const client = await connectDevice(t.server, { username: mine.token });
    expect((await live.next()).deviceStatusChanged.status).toBe("ONLINE");
    expect(await status(mine.id)).toMatchObject({ status: "ONLINE", connection: { transport: "MQTT", connected: true, since: expect.any(String) } });
    await client.endAsync();
    expect((await live.next()).deviceStatusChanged.status).toBe("OFFLINE");
    expect(await status(mine.id)).toMatchObject({ status: "OFFLINE", connection: { transport: "MQTT", connected: false, since: null } });
    await sleep(200);
    expect(live.events).toHaveLength(2);
    await live.dispose();
  });

  it("offline when the keep-alive runs out (1.5 × keep-alive) on a connection that went silent", async () => {
    const mine = await addDevice(t.base, t.alice, "silent");
    const socket = netConnect(mqttPortOf(t.server), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.on("error", () => undefined);
    socket.write(
      mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "silent", clean: true, keepalive: 1, username: mine.token }),
    );
    await eventually("online", async () => (await status(mine.id)).status === "ONLINE");
    const since = Date.now();
    await eventually("offline after the keep-alive", async () => (await status(mine.id)).status === "OFFLINE", 5000);
    expect(Date.now() - since).toBeLessThan(4000);
    socket.destroy();
  });
});

describe("hostile connections", () => {
  it("closes a connection that sends no CONNECT, or garbage, and keeps serving others", async () => {
    const garbage = netConnect(mqttPortOf(t.server), "127.0.0.1");
    const closed = new Promise((resolve) => garbage.once("close", resolve));
    garbage.on("error", () => undefined);
    garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x00]));
    await closed;
    const client = await connectDevice(t.server, { username: device.token });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it("drops publishes over the device's budget (MQTT 5: PUBACK 0x97) and counts wrong tokens against the address", async () => {
    // A server of its own with a small budget, so the test stays short.
    const { startTestServer } = await import("../helpers/server.js");
    const small = await startTestServer({ MQTT_PORT: "0", RATE_LIMIT_MAX: "5" });
    try {
      const owner = await import("../helpers/graphql.js").then((g) => g.signUp(small.url));
      const mine = await addDevice(small.url, owner);
      const client = await connectDevice(small, { username: mine.token, protocolVersion: 5 });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => client.publishAsync(topic(mine.id, "telemetry"), JSON.stringify({ data: { n: i } }), { qos: 1 })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
      expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([0x97, 0x97, 0x97]);
      await client.endAsync();
      for (let i = 0; i < 5; i++) expect(await refusal(small, { username: `wrong-${i}`, protocolVersion: 5 })).toBe(0x86);
      // The address has used its budget: even the right token waits for the window to end.
      expect(await refusal(small, { username: mine.token, protocolVersion: 5 })).toBe(0x9f);
    } finally {
      await small.stop();
    }
  });
});

afterAll(() => undefined);
