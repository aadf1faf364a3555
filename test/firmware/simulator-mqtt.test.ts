// npm run simulate -- --transport mqtt: the simulator as a child process, each device on one MQTT connection
// to the real server's device endpoint, through a TCP relay the test can cut like a flaky network.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_NAME } from "../../sim/dashboard.js";
import { SimDevice } from "../../sim/device.js";
import { MqttTransport } from "../../sim/mqtt-transport.js";
import { eventually } from "../helpers/fixture.js";
import { gql } from "../helpers/graphql.js";
import { createDevice, createUser, startTestServer, type TestServer } from "../helpers/server.js";
import { mqttPortOf } from "../mqtt/helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let server: TestServer;
let relay: Relay;
let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  server = await startTestServer({ MQTT_PORT: "0" });
  relay = await startRelay(mqttPortOf(server));
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-sim-mqtt-"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await relay?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Relay {
  port: number;
  /** Connections relayed now. */
  readonly open: number;
  /** Cuts every relayed connection, and refuses new ones until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP relay to the MQTT endpoint: cutting it is a network that drops, with the server still up. */
async function startRelay(target: number): Promise<Relay> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  const s: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = netConnect(target, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) socket.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    port: (s.address() as AddressInfo).port,
    get open() {
      return pairs.size;
    },
    cut() {
      refusing = true;
      for (const [a, b] of [...pairs]) [a, b].forEach((socket) => socket.destroy());
    },
    restore() {
      refusing = false;
    },
    close: () => {
      for (const [a, b] of [...pairs]) [a, b].forEach((socket) => socket.destroy());
      return new Promise((r) => s.close(() => r()));
    },
  };
}

/** `npm run simulate` as a child process, read while it runs. */
function startSim(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "sim/simulate.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const closed = new Promise<number | null>((done) => child.on("close", done));
  const lines = (re: RegExp) => stdout.split("\n").filter((l) => re.test(l));
  return {
    lines,
    waitFor: (what: string, re: RegExp, timeoutMs = 30_000) =>
      eventually(what, () => re.test(stdout) || child.exitCode !== null, timeoutMs).then(() => {
        if (!re.test(stdout)) throw new Error(`the simulator exited (${child.exitCode}) before ${what}:\n${stdout}\n${stderr}`);
      }),
    /** Resolves when it has exited by itself or, with `terminate`, after SIGTERM. */
    finish: async (terminate = true) => {
      if (terminate && child.exitCode === null) child.kill("SIGTERM");
      return { code: await closed, stdout, stderr };
    },
  };
}

const FINAL =
  /^Final summary after [\d.]+ s: devices (\d+) \(online (\d+)[^)]*\) \| publishes (\d+) \([\d.]+\/s\) \| state messages (\d+) \([\d.]+\/s\) \| errors (\d+)[^|]*\| commands applied (\d+) \| reports sent (\d+), acknowledged (\d+), latency p50 (\d+) ms, p95 (\d+) ms$/m;

const reportsOf = async (ids: string[]) =>
  (
    await server.services.pool.query<{ id: string; n: number }>(
      `SELECT device_id AS id, count(*)::int AS n FROM telemetry WHERE key = 'timestamp' AND device_id = ANY($1) GROUP BY device_id`,
      [ids],
    )
  ).rows.reduce((sum, r) => sum + r.n, 0);

describe("npm run simulate -- --transport mqtt (the CLI against the real server's MQTT endpoint)", () => {
  it("provisions, reports over MQTT, applies a widget switch pushed to it, and reconnects after the connection is cut", async () => {
    const statePath = join(dir, "fleet.json");
    const mqttUrl = `mqtt://127.0.0.1:${relay.port}`;
    const args = ["--url", server.url, "--transport", "mqtt", "--mqtt-url", mqttUrl, "--devices", "3", "--interval", "1", "--state", statePath];
    const sim = startSim([...args, "--dashboard", "--verbose"]);
    await sim.waitFor("all three online", /^\[\s*\d+ s\] online 3\/3 \| publishes [\d.]+\/s \| state messages [\d.]+\/s \| errors 0 \| commands applied 0$/m);
    expect(sim.lines(/^Simulating/)).toEqual([
      `Simulating 3 device(s) against ${server.url} over MQTT (${mqttUrl}, topics thingsnxt/device/<id>/...): report every 1 s, boots spread over 1 s; Ctrl-C stops`,
    ]);
    expect(relay.open).toBe(3); // one connection per device, no HTTP polling beside it

    const file = JSON.parse(await readFile(statePath, "utf8"));
    const entry = file.servers[server.url];
    const ids: string[] = entry.devices.map((d: { id: string }) => d.id);
    const login = await gql(server.url, `mutation ($i: LoginInput!) { login(input: $i) { accessToken } }`, { i: { login: entry.login, password: entry.password } });
    const token: string = login.data.login.accessToken;

    // The reports arrived over MQTT: the server shows the devices connected by MQTT, with the firmware's data.
    const { data } = await gql(server.url, `{ devices { id name connection { transport connected } state { reported } } }`, {}, token);
    expect(data.devices.map((d: { name: string }) => d.name).sort()).toEqual(["sim-1", "sim-2", "sim-3"]);
    for (const d of data.devices) {
      expect(d.connection).toEqual({ transport: "MQTT", connected: true });
      expect(Object.keys(d.state.reported).slice(0, 9)).toEqual(["v0", "v1", "v2", "v3", "led", "timestamp", "temperature", "humidity", "rssi"]);
      expect(d.state.reported).toMatchObject({ v0: 0, led: 0, "stats.failed": 0 });
    }
    const history = await gql(
      server.url,
      `query ($id: ID!) { telemetryHistory(deviceId: $id, key: "temperature", from: "2000-01-01T00:00:00Z") { value } }`,
      { id: ids[0] },
      token,
    );
    expect(history.data.telemetryHistory.length).toBeGreaterThan(0);

    // The app's switch on sim-2's v0 is pushed to sim-2, which switches and reports the pin back at once.
    const dashboards = (await gql(server.url, `{ dashboards { name widgets { id label } } }`, {}, token)).data.dashboards;
    const lamp = dashboards.find((d: { name: string }) => d.name === DASHBOARD_NAME).widgets.find((w: { label: string }) => w.label === "sim-2 v0");
    const set = await gql(server.url, `mutation ($id: ID!) { setWidgetState(id: $id, state: 1) { value pending } }`, { id: lamp.id }, token);
    expect(set.data.setWidgetState).toEqual({ value: 1, pending: true });
    await sim.waitFor("the command at the device", /^device sim-2: Command from MQTT (state|command): v0=1$/m, 10_000);
    const widget = async () => (await gql(server.url, `query ($id: ID!) { widget(id: $id) { value pending } }`, { id: lamp.id }, token)).data.widget;
    await eventually("the confirmation", async () => (await widget()).pending === false, 10_000);
    expect(await widget()).toEqual({ value: 1, pending: false });
    const state = await gql(server.url, `query ($id: ID!) { device(id: $id) { state { reported desired } } }`, { id: ids[1] }, token);
    expect(state.data.device.state).toMatchObject({ desired: {}, reported: { v0: 1, led: 1 } });
    expect(sim.lines(/Command from/)).toEqual(["device sim-2: Command from MQTT state: v0=1"]); // the command message changed nothing more

    // The network drops and stays down a while: one offline line per device, reconnects backing off.
    relay.cut();
    const offline = (name: string) => new RegExp(`^device ${name}: offline \\(connection lost: connection closed\\), retrying with backoff$`);
    for (const name of ["sim-1", "sim-2", "sim-3"]) await sim.waitFor(`${name} offline`, new RegExp(offline(name).source, "m"), 10_000);
    await sim.waitFor("a failed reconnect", /^device sim-1: connect failed \(server unreachable: [^)]+\); reconnect #2 in \d+ ms$/m, 10_000);
    await sim.waitFor("the live line showing them offline", /^\[\s*\d+ s\] online 0\/3, offline 3 \| .* \| errors [1-9]/m, 10_000);
    const whileDown = await reportsOf(ids);
    relay.restore();
    for (const name of ["sim-1", "sim-2", "sim-3"]) await sim.waitFor(`${name} back`, new RegExp(`^device ${name}: online again$`, "m"), 30_000);
    await sim.waitFor("the live line showing all online", /online again[\s\S]*online 3\/3 \|/, 10_000);
    await eventually("reports after the reconnect", async () => (await reportsOf(ids)) >= whileDown + 3, 10_000);
    await eventually("one relayed connection per device", () => relay.open === 3);
    for (const name of ["sim-1", "sim-2", "sim-3"]) expect(sim.lines(offline(name))).toHaveLength(1);

    // The server ends a session (another connection of sim-1 takes over): the reason code is in the line.
    const usurper = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPortOf(server)}`, {
      username: ids[0],
      password: entry.devices[0].token,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    usurper.on("error", () => undefined); // it is taken over in turn: that is the point
    await sim.waitFor("sim-1 taken over", /^device sim-1: offline \(connection lost: server ended the session: 0x8E Session taken over\), retrying with backoff$/m);
    await eventually("sim-1 taking its session back", () => !usurper.connected, 15_000);
    await usurper.endAsync(true);
    await sim.waitFor("sim-1 back again", /taken over\)[\s\S]*^device sim-1: online again$/m);

    const run = await sim.finish();
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("stopped by SIGTERM\n");
    const [, devices, , publishes, stateMessages, errors, commands, sent, acknowledged, p50, p95] = FINAL.exec(run.stdout)!.map(Number);
    expect({ devices, commands, acknowledged }).toEqual({ devices: 3, commands: 1, acknowledged: publishes });
    expect(stateMessages).toBeGreaterThanOrEqual(3 + 3 + 1 + 1); // one per connection, and the command
    expect(sent).toBeGreaterThanOrEqual(acknowledged!);
    expect(p95).toBeGreaterThanOrEqual(p50!);
    // A drop per device, a takeover, a few failed reconnects: backing off, not spinning.
    expect(errors).toBeGreaterThanOrEqual(4);
    expect(errors).toBeLessThan(60);
    // Every PUBACK came after the commit; reports cut by the drop were sent again, so stored ones may be more.
    expect(await reportsOf(ids)).toBeGreaterThanOrEqual(acknowledged!);
    for (const t of entry.devices.map((d: { token: string }) => d.token)) expect(run.stdout + run.stderr).not.toContain(t);
  }, 180_000);

  it("stops a device whose token the server refuses at CONNECT, and exits when none is left", async () => {
    const statePath = join(dir, "refused.json");
    const devices = [{ name: "sim-1", id: "7d1f6a2e-0000-4000-8000-000000000001", token: "not-a-token" }];
    await writeFile(statePath, JSON.stringify({ version: 1, servers: { [server.url]: { login: "nobody@example.com", devices } } }), { mode: 0o600 });
    const mqttUrl = `mqtt://127.0.0.1:${mqttPortOf(server)}`;
    const args = ["--url", server.url, "--transport", "mqtt", "--mqtt-url", mqttUrl, "--devices", "1", "--interval", "1", "--state", statePath];
    const run = await startSim(args).finish(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("device sim-1: the server rejected the device token (CONNACK 0x86 Bad User Name or Password); this device stops");
    expect(run.stdout).toMatch(/^Final summary .*, stopped 1\) \| publishes 0 .*\| errors 1 \(0x86: 1\) /m);
    expect(run.stderr).toBe("every device was rejected (its token refused at CONNECT); delete the state file to create new ones\n");
  }, 60_000);

  it("refuses bad MQTT options with a usage message and exit code 2", async () => {
    for (const [args, message] of [
      [["--transport", "pigeon"], /--transport must be http or mqtt, got "pigeon"/],
      [["--transport", "mqtt", "--mqtt-url", "http://127.0.0.1:1883"], /--mqtt-url must be mqtt:\/\/ or mqtts:\/\//],
      [["--transport", "mqtt", "--topic-prefix", "a/#"], /--topic-prefix must be topic levels without wildcards/],
      [["--mqtt-url", "mqtt://127.0.0.1:1883"], /--mqtt-url and --topic-prefix need --transport mqtt/],
    ] as const) {
      const run = await startSim([...args]).finish(false);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`${message.source}[\\s\\S]*Usage: npm run simulate`));
    }
  }, 60_000);
});

describe("SimDevice over MQTT (the transport on its own)", () => {
  it("over the device's budget (PUBACK 0x97) pauses reports with backoff; nothing refused is stored", async () => {
    const limited = await startTestServer({ MQTT_PORT: "0", RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_SECONDS: "60" });
    try {
      const { id, token } = await createDevice(limited, await createUser(limited));
      const lines: string[] = [];
      const errors: string[] = [];
      const device = new SimDevice({
        baseUrl: limited.url,
        id,
        token,
        name: "sim-t",
        random: () => 0, // waits of exactly half the backoff ceiling: 200, 400, 800 ms
        telemetryIntervalMs: 100,
        backoffBaseMs: 400,
        listener: { line: (_d, text, debug) => !debug && lines.push(text), error: (_d, kind, what) => errors.push(`${kind} ${what}`) },
        transport: (t) => new MqttTransport(t, { url: `mqtt://127.0.0.1:${mqttPortOf(limited)}`, topicPrefix: "thingsnxt" }),
      });
      const done = device.run();
      await eventually("three refusals", () => errors.length >= 3, 15_000);
      device.stop();
      await done;
      expect(errors.slice(0, 3)).toEqual(["telemetry 0x97", "telemetry 0x97", "telemetry 0x97"]);
      expect(lines.slice(0, 3)).toEqual([200, 400, 800].map((ms) => `telemetry rate limited (PUBACK 0x97 Quota exceeded); pausing reports for ${ms} ms`));
      expect(device.offline).toBe(false); // refused reports are answers: the connection held
      expect(device.counters.sent).toBe(3);
      const { rows } = await limited.services.pool.query(`SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1 AND key = 'timestamp'`, [id]);
      expect(rows[0].n).toBe(3);
    } finally {
      await limited.stop();
    }
  }, 60_000);
});
