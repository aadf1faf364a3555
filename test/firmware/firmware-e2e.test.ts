// End to end: the firmware's portable core, built for the PC (firmware/build/host_device), runs as a
// device against the real server. Provisioned through its serial console (stdin), switched through
// GraphQL, confirmed by subscription. See firmware/README.md ("host_device").
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { subscribe, type Live } from "../helpers/ws.js";
import { buildHostDevice, HOST_DEVICE, HostDevice } from "./host-device.js";

/** What `make -C firmware host` needs (no doctest); .ci/run installs the Debian packages when missing. */
function missingTools(): string[] {
  const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
  const missing: string[] = [];
  if (!has("g++")) missing.push("g++");
  if (!has("make")) missing.push("make");
  if (!existsSync("/usr/include/cjson/cJSON.h")) missing.push("libcjson-dev (/usr/include/cjson/cJSON.h)");
  return missing;
}
const missing = missingTools();
const SKIP_REASON = `${missing.join(", ")} missing: install g++, make and libcjson-dev (.ci/run does)`;

const STATE_CHANGED = `subscription ($id: ID) { deviceStateChanged(deviceId: $id) { deviceId desired reported confirmed version } }`;

/** The next deviceStateChanged message (in arrival order) that satisfies `match`. */
async function nextStateChange(live: Live, match: (s: any) => boolean, ms: number): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const event = (await live.next(Math.max(1, deadline - Date.now()))).deviceStateChanged;
    if (match(event)) return event;
  }
}

let server: TestServer;
let dir: string;
let account: Account;
let device: { id: string; token: string };
let widgetId: string;
let host: HostDevice | undefined;
let live: Live | undefined;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-fw-e2e-"));
  account = await signUp(server.url);
  device = await addDevice(server.url, account, "host-esp32"); // createDevice: the token comes back once
  const dashboard = await gql(server.url, `mutation ($i: CreateDashboardInput!) { createDashboard(input: $i) { id } }`, { i: { name: "Bench" } }, account.accessToken);
  const widget = await gql(
    server.url,
    `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id type virtualPin deviceId } }`,
    { i: { dashboardId: dashboard.data.createDashboard.id, deviceId: device.id, type: "led", label: "Onboard LED" } },
    account.accessToken,
  );
  expect(widget.errors).toBeUndefined();
  expect(widget.data.createWidget).toMatchObject({ type: "led", virtualPin: "v0", deviceId: device.id });
  widgetId = widget.data.createWidget.id;
}, 120_000);

afterAll(async () => {
  host?.kill("SIGKILL");
  await live?.dispose();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const switchWidget = (state: 0 | 1) =>
  gql(server.url, `mutation ($id: ID!, $s: JSON!) { setWidgetState(id: $id, state: $s) { id value pending } }`, { id: widgetId, s: state }, account.accessToken);

describe("host_device (the firmware core on the PC) against the real server", () => {
  it("builds with make -C firmware host", { timeout: 600_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    const { code, output } = await buildHostDevice();
    expect(code, output.slice(-3000)).toBe(0);
    expect(existsSync(HOST_DEVICE)).toBe(true);
  });

  it("is provisioned over its serial console, switched by a widget, and confirms by report", { timeout: 60_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    // Reports every 5 s, so long polls hold up to 4 s; polls at most every 0.5 s; verbose prints every request line.
    host = new HostDevice(["--store", join(dir, "nvs.json"), "--telemetry-ms", "5000", "--poll-ms", "500", "--health-ms", "2000", "--debug", "verbose"]);
    await host.waitFor(/^UNPROVISIONED /);
    host.type(`provision ${device.id} ${device.token} ${server.url}`);
    await host.waitFor(new RegExp(`^PROVISIONED device=${device.id}$`));
    const ready = await host.waitFor(/^READY$/);
    // Boot: a plain poll learns X-Long-Poll-Max, then the first report (the device is known to the server).
    await host.waitFor(/^Telemetry sent \(HTTP 200\)$/, 5_000, ready.index);
    await host.waitFor(/^Long polling on: wait=25 s$/, 5_000, ready.index);

    live = await subscribe(server.url, account.accessToken, STATE_CHANGED, { id: device.id });
    const latencies: number[] = [];
    for (const state of [1, 0] as const) {
      // Switch while a long poll is held (a poll of at least 2 s, sent 300 ms ago): the command must come back
      // on it at once. The verbose request line shows the wait the device asked for.
      const from = host.lines.length;
      const held = await host.waitFor(/^> GET http:\/\/\S+\/telemetry\/latest\?device_token=\S+&wait=([2-9]|\d\d)$/, 8_000, from);
      await sleep(300);
      const before = host.lines.length;
      const sentAt = performance.now();
      const res = await switchWidget(state);
      expect(res.errors).toBeUndefined();
      expect(res.data.setWidgetState).toMatchObject({ id: widgetId, value: state });

      const gpio = await host.waitFor(new RegExp(`^GPIO 2 ${state} \\(v0\\)$`), 3_000, before);
      latencies.push(gpio.at - sentAt);
      // The GPIO changed on the answer to the held poll, not on a later one.
      const polls = host.lines.slice(held.index + 1, gpio.index).filter((l) => l.text.startsWith("> GET") && l.text.includes("/telemetry/latest"));
      expect(polls, host.tail()).toEqual([]);
      await host.waitFor(new RegExp(`^Command from poll: v0=${state} \\(GPIO 2\\)$`), 1_000, before);

      // The confirming report clears desired and names v0 as confirmed.
      const confirmed = await nextStateChange(live, (s) => s.confirmed.includes("v0"), 5_000);
      expect(confirmed).toMatchObject({ deviceId: device.id, desired: {}, confirmed: ["v0"] });
      expect(confirmed.reported).toMatchObject({ v0: state, led: state });
    }
    console.log(`host_device command latency (setWidgetState sent -> GPIO line): ${latencies.map((ms) => `${ms.toFixed(1)} ms`).join(", ")}`);
    // Milliseconds on a held long poll; the bound only guards against a fallback to the 0.5 s poll cadence or worse.
    for (const ms of latencies) expect(ms).toBeLessThan(1_500);

    // Reports keep their 5 s schedule while long polls fill the gaps (a held poll never delays one).
    const after = host.lines.length;
    const isReport = /^> POST http:\/\/\S+\/devices\/\S+\/telemetry$/;
    const first = await host.waitFor(isReport, 7_000, after);
    const second = await host.waitFor(isReport, 7_000, first.index + 1);
    expect(second.at - first.at).toBeGreaterThan(4_000);
    expect(second.at - first.at).toBeLessThan(6_000);
    const between = host.lines.slice(first.index + 1, second.index).map((l) => l.text);
    expect(between.filter((t) => /\/telemetry\/latest\?\S+&wait=[34]$/.test(t)), between.join("\n")).toHaveLength(1);

    const widget = await gql(server.url, `query ($id: ID!) { widget(id: $id) { value pending } }`, { id: widgetId }, account.accessToken);
    expect(widget.data.widget).toEqual({ value: 0, pending: false });
  });

  it("stops on SIGTERM with STOPPED and exit code 0, and never printed its token", { timeout: 20_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    expect(host?.running, "the device of the previous test is not running").toBe(true);
    const h = host!;
    // Very likely in the middle of a held long poll: SIGTERM must end it at once.
    const started = performance.now();
    h.kill("SIGTERM");
    const exit = await Promise.race([h.exited, sleep(5_000).then(() => undefined)]);
    expect(exit, h.tail()).toEqual({ code: 0, signal: null });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(h.lines.at(-1)?.text).toBe("STOPPED");
    expect(h.stdout).not.toContain(device.token);
    expect(h.stderr).not.toContain(device.token);
    expect(h.stdout).toContain(`device_token=${device.token.slice(0, 4)}…`); // verbose lines show it masked
  });
});
