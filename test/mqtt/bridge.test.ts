import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/platform/db/embedded.js";
import { eventually } from "../helpers/fixture.js";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { inbox } from "./helpers.js";

/**
 * MQTT_URL: the server binds to an external broker instead of listening. A real Mosquitto of our
 * own, on a free port (the machine's own one on 1883 is left alone), and two server processes
 * sharing the uplinks through the shared subscription.
 */
const mosquitto = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((path) => existsSync(path));
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const topic = (id: string, leaf: string) => `thingsnxt/device/${id}/${leaf}`;

describe.skipIf(!mosquitto)("bound to an external broker (skipped: mosquitto is not installed)", () => {
  let broker: ChildProcess;
  let dir: string;
  let brokerUrl: string;
  let first: TestServer;
  let second: TestServer;
  let user: Account;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "thingsnxt-mosquitto-"));
    const port = await freePort();
    await writeFile(join(dir, "mosquitto.conf"), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    broker = spawn(mosquitto!, ["-c", join(dir, "mosquitto.conf")], { stdio: "ignore" });
    brokerUrl = `mqtt://127.0.0.1:${port}`;
    await eventually(
      "mosquitto listening",
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, "127.0.0.1", () => (socket.destroy(), resolve(true)));
          socket.on("error", () => resolve(false));
        }),
    );
    first = await startTestServer({ MQTT_URL: brokerUrl, REDIS_URL: redisUrl, RATE_LIMIT_MAX: "100000" });
    second = await startTestServer({ MQTT_URL: brokerUrl, REDIS_URL: redisUrl, RATE_LIMIT_MAX: "100000" }, first.databaseUrl);
    user = await signUp(first.url);
  }, 60_000);

  afterAll(async () => {
    await second?.close();
    await first?.stop();
    broker?.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("takes uplinks authenticated by their device_token, split between the processes, each stored once", async () => {
    const device = await addDevice(first.url, user, "via-broker");
    const client = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 });
    for (let n = 0; n < 40; n++) {
      await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ device_token: device.token, data: { n } }), { qos: 1 });
    }
    const rows = await eventually("40 reports stored", async () => {
      const { rows } = await first.services.pool.query<{ num: number }>(`SELECT num FROM telemetry WHERE device_id = $1 AND key = 'n'`, [device.id]);
      return new Set(rows.map((r) => r.num)).size >= 40 && rows;
    });
    await sleep(300);
    expect(rows.map((r) => r.num).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    // Without a token, or with another device's, nothing is stored.
    const stranger = await addDevice(first.url, await signUp(first.url), "stranger");
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { n: 100 } }), { qos: 1 });
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ device_token: stranger.token, data: { n: 101 } }), { qos: 1 });
    await sleep(500);
    const { rows: after } = await first.services.pool.query(`SELECT 1 FROM telemetry WHERE device_id = $1 AND key = 'n' AND num >= 100`, [device.id]);
    expect(after).toEqual([]);
    // Two processes share one device's uplinks, so which of the last ones is "latest" is a race:
    // per-device order holds only with one bound process (docs/mqtt.md).
    const latest = await http(first.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}`);
    expect(latest.body.data.n).toBeLessThan(40);
    await client.endAsync();
  });

  it("publishes the state (retained) and commands of a widget switch to the broker", async () => {
    const device = await addDevice(first.url, user, "commanded");
    const set = await gql(
      first.url,
      `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`,
      { id: device.id },
      user.accessToken,
    );
    expect(set.errors).toBeUndefined();
    // A device subscribing after the switch still gets the state: it is retained.
    await sleep(300);
    const client = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 });
    const box = inbox(client);
    await client.subscribeAsync(topic(device.id, "#"), { qos: 1 });
    const state = await box.next(topic(device.id, "state"));
    expect(state.body).toMatchObject({ device_id: device.id, data: { v0: 1 } });
    await gql(first.url, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 0 }) { version } }`, { id: device.id }, user.accessToken);
    expect((await box.next(topic(device.id, "commands"))).body).toMatchObject({ type: "led", state: 0, virtual_pin: "v0" });
    await client.endAsync();
  });
});
