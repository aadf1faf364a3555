// End to end over MQTT: host_device (the firmware core on the PC, with libmosquitto) provisioned with
// `transport mqtt` against the real server's MQTT endpoint. A widget switched through GraphQL reaches its
// fake GPIO, the confirming report shows on the subscription, the device reconnects and subscribes again
// when the server ends its session, and a killed device is offline at once. See firmware/README.md.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { subscribe, type Live } from "../helpers/ws.js";
import { connectDevice, mqttPortOf } from "../mqtt/helpers.js";
import { buildHostDevice, HOST_DEVICE, HostDevice } from "./host-device.js";

/** What `make -C firmware host` needs for transport mqtt; .ci/run installs the Debian packages when missing. */
function missingTools(): string[] {
  const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
  const missing: string[] = [];
  if (!has("g++")) missing.push("g++");
  if (!has("make")) missing.push("make");
  if (!existsSync("/usr/include/cjson/cJSON.h")) missing.push("libcjson-dev (/usr/include/cjson/cJSON.h)");
  if (!existsSync("/usr/include/mosquitto.h")) missing.push("libmosquitto-dev (/usr/include/mosquitto.h)");
  return missing;
}
const missing = missingTools();
const SKIP_REASON = `${missing.join(", ")} missing: install g++, make, libcjson-dev and libmosquitto-dev (.ci/run does)`;

// Reconnects wait 0.5-1 s of backoff, a refused one a little more; on a loaded 2-core machine everything
// may take far longer than that, so the waits below are generous and only fail when something is wrong.
const SLOW = 30_000;

const STATE_CHANGED = `subscription ($id: ID) { deviceStateChanged(deviceId: $id) { deviceId desired reported confirmed } }`;
const STATUS_CHANGED = `subscription ($id: ID) { deviceStatusChanged(deviceId: $id) { status } }`;

async function nextMatching(live: Live, field: string, match: (s: any) => boolean, ms: number): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const event = (await live.next(Math.max(1, deadline - Date.now())))[field];
    if (match(event)) return event;
  }
}

let server: TestServer;
let dir: string;
let account: Account;
let device: { id: string; token: string };
let widgetId: string;
let host: HostDevice | undefined;
let states: Live | undefined;

beforeAll(async () => {
  server = await startTestServer({ MQTT_PORT: "0", RATE_LIMIT_MAX: "100000" });
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-fw-mqtt-"));
  account = await signUp(server.url);
  device = await addDevice(server.url, account, "host-esp32-mqtt");
  const dashboard = await gql(server.url, `mutation ($i: CreateDashboardInput!) { createDashboard(input: $i) { id } }`, { i: { name: "Bench" } }, account.accessToken);
  const widget = await gql(
    server.url,
    `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id virtualPin } }`,
    { i: { dashboardId: dashboard.data.createDashboard.id, deviceId: device.id, type: "led", label: "Onboard LED" } },
    account.accessToken,
  );
  expect(widget.errors).toBeUndefined();
  expect(widget.data.createWidget.virtualPin).toBe("v0");
  widgetId = widget.data.createWidget.id;
}, 120_000);

afterAll(async () => {
  host?.kill("SIGKILL");
  await states?.dispose();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const switchWidget = async (state: 0 | 1) => {
  const res = await gql(server.url, `mutation ($id: ID!, $s: JSON!) { setWidgetState(id: $id, state: $s) { value } }`, { id: widgetId, s: state }, account.accessToken);
  expect(res.errors).toBeUndefined();
};

/** A switch reaches the fake GPIO over the state topic, and the confirming report clears `desired`. */
async function switchAndConfirm(h: HostDevice, state: 0 | 1): Promise<number> {
  const before = h.lines.length;
  const sentAt = performance.now();
  await switchWidget(state);
  const gpio = await h.waitFor(new RegExp(`^GPIO 2 ${state} \\(v0\\)$`), SLOW, before);
  await h.waitFor(new RegExp(`^Command from mqtt (state|command): v0=${state} \\(GPIO 2\\)$`), SLOW, before);
  const confirmed = await nextMatching(states!, "deviceStateChanged", (s) => s.confirmed.includes("v0") && s.reported.v0 === state, SLOW).catch(
    (error: Error) => {
      throw new Error(`${error.message}; last state changes: ${JSON.stringify(states!.events.slice(-4))}\n${h.tail(40)}`);
    },
  );
  expect(confirmed).toMatchObject({ deviceId: device.id, desired: {}, reported: { v0: state, led: state } });
  return gpio.at - sentAt;
}

/**
 * After `from`: connected again, both topics subscribed again (the server keeps no session), and the
 * report that follows the state the subscription brings is committed (PUBACKed). A report still in
 * flight when a command is given wins over it (the server takes it as the device's word, and drops the
 * desired value), so the tests switch only while no report is under way: reports come every 10 minutes
 * here, apart from the ones after a connect and the confirmations, which the tests wait for.
 */
async function resubscribed(h: HostDevice, from: number): Promise<void> {
  const connected = await h.waitFor(/^MQTT (re)?connected to mqtt:\/\/127\.0\.0\.1:\d+$/, SLOW, from);
  const first = await h.waitFor(/^MQTT subscribed \(QoS 1\)$/, SLOW, connected.index + 1);
  await h.waitFor(/^MQTT subscribed \(QoS 1\)$/, SLOW, first.index + 1);
  await h.waitFor(/^Telemetry sent \(MQTT PUBACK\)$/, SLOW, connected.index + 1);
}

describe("host_device over MQTT against the real server's endpoint", () => {
  it("builds with make -C firmware host (with libmosquitto)", { timeout: 600_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    const { code, output } = await buildHostDevice();
    expect(code, output.slice(-3000)).toBe(0);
    expect(existsSync(HOST_DEVICE)).toBe(true);
  });

  it("is provisioned with transport mqtt, switched by a widget, and confirms by report", { timeout: 120_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    const port = mqttPortOf(server);
    // Verbose: every MQTT message in the output of a failure (the token is never in it, checked at the end).
    host = new HostDevice(["--store", join(dir, "nvs.json"), "--telemetry-ms", "600000", "--debug", "verbose"]);
    await host.waitFor(/^UNPROVISIONED /, SLOW);
    host.type(`transport mqtt mqtt://127.0.0.1:${port}`);
    await host.waitFor(new RegExp(`^TRANSPORT mqtt mqtt://127\\.0\\.0\\.1:${port}$`), SLOW);
    host.type(`provision ${device.id} ${device.token} ${server.url}`);
    await host.waitFor(new RegExp(`^PROVISIONED device=${device.id}$`), SLOW);
    // The state answers the subscription; the first report follows it and is acknowledged once committed.
    await resubscribed(host, 0);
    expect(host.lines.some((l) => l.text.startsWith("> GET") || l.text.startsWith("> POST"))).toBe(false);

    const status = await gql(server.url, `query ($id: ID!) { device(id: $id) { status connection { transport connected } } }`, { id: device.id }, account.accessToken);
    expect(status.data.device).toMatchObject({ status: "ONLINE", connection: { transport: "MQTT", connected: true } });

    states = await subscribe(server.url, account.accessToken, STATE_CHANGED, { id: device.id });
    const latencies = [await switchAndConfirm(host, 1), await switchAndConfirm(host, 0)];
    console.log(`host_device over MQTT, setWidgetState sent -> GPIO line: ${latencies.map((ms) => `${ms.toFixed(1)} ms`).join(", ")}`);
  });

  it("reconnects with backoff and subscribes again when the server ends its session", { timeout: 120_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    expect(host?.running, "the device of the previous test is not running").toBe(true);
    const h = host!;
    // A second connection of the same device takes over: the server ends host_device's session.
    const from = h.lines.length;
    const intruder = await connectDevice(server, { username: device.id, password: device.token });
    const closed = new Promise<void>((resolve) => intruder.once("close", () => resolve()));
    const lost = await h.waitFor(/^MQTT connection lost \(.*\); reconnect #1 in \d+ ms$/, SLOW, from);
    const delay = Number(/in (\d+) ms$/.exec(lost.text)![1]);
    expect(delay).toBeGreaterThanOrEqual(500); // the backoff's first step: 0.5-1 s
    expect(delay).toBeLessThanOrEqual(1000);
    await resubscribed(h, lost.index);
    await Promise.race([closed, sleep(SLOW).then(() => Promise.reject(new Error("the reconnecting device did not take over")))]);
    await switchAndConfirm(h, 1);

    // Rotating the token ends the session too; the old token is then refused, as a 403 would be over HTTP.
    const rotated = await gql(server.url, `mutation ($id: ID!) { rotateDeviceToken(id: $id) { token } }`, { id: device.id }, account.accessToken);
    expect(rotated.errors).toBeUndefined();
    const token: string = rotated.data.rotateDeviceToken.token;
    const refusedFrom = h.lines.length;
    await h.waitFor(/^NEEDS_PROVISIONING the server rejected the device token \(MQTT CONNACK [45]\); run 'provision'$/, SLOW, refusedFrom);
    h.type(`provision ${device.id} ${token} ${server.url}`);
    const again = await h.waitFor(new RegExp(`^PROVISIONED device=${device.id}$`), SLOW, refusedFrom);
    await resubscribed(h, again.index);
    await switchAndConfirm(h, 0);
    device.token = token;
  });

  it("is offline within a few seconds of being killed, and never printed its token", { timeout: 60_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    expect(host?.running, "the device of the previous test is not running").toBe(true);
    const h = host!;
    const presence = await subscribe(server.url, account.accessToken, STATUS_CHANGED, { id: device.id });
    try {
      await sleep(200); // the subscription is live on the server before the kill
      const killedAt = performance.now();
      h.kill("SIGKILL");
      await h.exited;
      await nextMatching(presence, "deviceStatusChanged", (s) => s.status === "OFFLINE", SLOW);
      const ms = performance.now() - killedAt;
      console.log(`host_device killed -> deviceStatusChanged OFFLINE: ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(5_000); // the socket closes: no wait for a keep-alive or OFFLINE_TIMEOUT
    } finally {
      await presence.dispose();
    }
    expect(h.stdout).not.toContain(device.token);
    expect(h.stderr).not.toContain(device.token);
  });
});
