// The simulator in the README's journey: it says when the server is gone and when it is back, and
// --dashboard gives the app something to switch without hand-made widgets.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_NAME, describeDashboard, ensureDashboard } from "../../sim/dashboard.js";
import { SimDevice, type SimDeviceOptions } from "../../sim/device.js";
import { addDevice, gql, signUp } from "../helpers/graphql.js";
import { createTestDatabase, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/fixture.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let dir: string;
const children: ChildProcess[] = [];
const servers: Server[] = [];
const devices: SimDevice[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-sim-journey-"));
});
afterEach(async () => {
  for (const d of devices.splice(0)) d.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

/** `npm run simulate` as a child process, read while it runs. */
function startSim(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "sim/simulate.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const closed = new Promise<number | null>((done) => child.on("close", done));
  return {
    lines: (re: RegExp) => stdout.split("\n").filter((l) => re.test(l)),
    waitFor: (what: string, re: RegExp, timeoutMs = 20_000) =>
      eventually(what, () => re.test(stdout) || child.exitCode !== null, timeoutMs).then(() => {
        if (!re.test(stdout)) throw new Error(`the simulator exited (${child.exitCode}) before ${what}:\n${stdout}\n${stderr}`);
      }),
    /** Resolves when it has exited by itself (--duration) or, with `terminate`, after SIGTERM. */
    finish: async (terminate = true) => {
      if (terminate && child.exitCode === null) child.kill("SIGTERM");
      return { code: await closed, stdout, stderr };
    },
  };
}

const errorsOf = (stdout: string) => Number(/^Final summary .*\| errors (\d+)/m.exec(stdout)![1]);

describe("offline and back (the CLI against a real server that stops and comes back)", () => {
  it("prints one offline line per device, keeps backing off, and one 'online again' when the server is back on its port", async () => {
    const db = await createTestDatabase();
    let server: TestServer | undefined = await startTestServer({}, db.url);
    try {
      const port = new URL(server.url).port;
      const sim = startSim(["--url", server.url, "--devices", "2", "--interval", "1", "--poll", "0.5", "--state", join(dir, "outage.json")]);
      await sim.waitFor("both devices online", /online 2\/2/);

      await server.close(); // same database kept: it is only dropped below
      server = undefined;
      const offline = (name: string) => new RegExp(`^device ${name}: offline \\(server unreachable: [^)]+\\), retrying with backoff$`);
      await sim.waitFor("sim-1 offline", new RegExp(offline("sim-1").source, "m"), 15_000);
      await sim.waitFor("sim-2 offline", new RegExp(offline("sim-2").source, "m"), 15_000);
      // The server down for a while: the devices keep retrying without a new line each time.
      await sleep(3_000);
      for (const name of ["sim-1", "sim-2"]) expect(sim.lines(offline(name))).toHaveLength(1);
      expect(sim.lines(/online again/)).toEqual([]);
      // The live line agrees: no device counts as online while it says it is offline.
      expect(sim.lines(/^\[\s*\d+ s\] online 0\/2, offline 2 \| .* \| errors [1-9]/).length).toBeGreaterThan(0);
      const [reason] = sim.lines(offline("sim-1"));
      expect(reason).toMatch(/\((server unreachable: (ECONNREFUSED|ECONNRESET|connection closed|no answer within \d+ s))\)/);

      server = await startTestServer({ PORT: port }, db.url);
      expect(server.url).toBe(`http://127.0.0.1:${port}`);
      // The longest wait is the backoff reached during the outage (a few seconds, never over 60 s).
      await sim.waitFor("sim-1 back", /^device sim-1: online again$/m, 30_000);
      await sim.waitFor("sim-2 back", /^device sim-2: online again$/m, 30_000);
      await sim.waitFor("the live line showing both online", /online again[\s\S]*online 2\/2(, long polling 2)? \|/, 10_000);
      const run = await sim.finish();
      expect(run.code).toBe(0);
      expect(run.stderr).toBe("stopped by SIGTERM\n");
      for (const name of ["sim-1", "sim-2"]) {
        expect(sim.lines(offline(name))).toHaveLength(1);
        expect(sim.lines(new RegExp(`^device ${name}: online again$`))).toHaveLength(1);
      }
      // Backing off, not spinning: a few failed reports and polls per device over seconds of outage.
      expect(errorsOf(run.stdout)).toBeGreaterThanOrEqual(4);
      expect(errorsOf(run.stdout)).toBeLessThan(60);
    } finally {
      await server?.close();
      await db.drop();
    }
  }, 120_000);
});

/** A device that answers like the server: 200 with an empty state, or what `reply` says. */
async function localServer(port = 0, reply: (kind: "poll" | "telemetry" | "health", n: number) => number = () => 200) {
  const counts = { poll: 0, telemetry: 0, health: 0 };
  const s = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const kind = req.url!.startsWith("/telemetry/latest") ? "poll" : req.url === "/health" ? "health" : "telemetry";
      const status = reply(kind, ++counts[kind]);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(status === 200 ? { data: {} } : { detail: "storage unavailable" }));
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, counts };
}

function startDevice(options: Partial<SimDeviceOptions> & Pick<SimDeviceOptions, "baseUrl">) {
  const lines: string[] = [];
  const errors: string[] = [];
  const device = new SimDevice({
    id: "7d1f6a2e-0000-4000-8000-000000000001",
    token: "tok_0123456789abcdef",
    name: "sim-t",
    random: () => 0,
    telemetryIntervalMs: 200,
    pollIntervalMs: 100,
    backoffBaseMs: 100,
    backoffCapMs: 400,
        // Operator lines only; the retry lines (debug) are --verbose's.
    listener: { line: (_d, text, debug) => !debug && lines.push(text), error: (_d, kind, what) => errors.push(`${kind} ${what}`) },
    ...options,
  });
  devices.push(device);
  void device.run();
  return { device, lines, errors };
}

describe("SimDevice offline and online lines", () => {
  it("says so once when reports and polls get 5xx, and once when answers come back", async () => {
    const fake = await localServer(0, (kind, n) => (kind !== "health" && n <= 3 ? 503 : 200));
    const { device, lines, errors } = startDevice({ baseUrl: fake.url });
    await eventually("back online", () => lines.includes("online again"), 5_000);
    await sleep(300);
    expect(lines).toEqual(["offline (server error: HTTP 503), retrying with backoff", "online again"]);
    expect(errors.filter((e) => e.endsWith(" 503")).length).toBeGreaterThanOrEqual(3);
    expect(device.offline).toBe(false);
  });

  it("connection refused: one line, bounded retries at the backoff cap, then online again when a server listens on the port", async () => {
    const probe = await localServer();
    const port = Number(new URL(probe.url).port);
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r)); // nothing listens there now
    const { device, lines, errors } = startDevice({ baseUrl: probe.url });
    await sleep(2_000);
    expect(lines).toEqual(["offline (server unreachable: ECONNREFUSED), retrying with backoff"]);
    expect(device.offline).toBe(true);
    // Two request kinds, each at most every 400 ms once at the cap (random() = 0: half of it, 200 ms).
    expect(errors.length).toBeGreaterThanOrEqual(6);
    expect(errors.length).toBeLessThanOrEqual(2 * (4 + 2_000 / 200));
    expect(new Set(errors)).toEqual(new Set(["poll network", "telemetry network"]));

    const back = await localServer(port);
    await eventually("back online", () => lines.includes("online again"), 3_000);
    await eventually("a report and a poll answered", () => back.counts.poll > 0 && back.counts.telemetry > 0, 3_000);
    expect(lines).toEqual(["offline (server unreachable: ECONNREFUSED), retrying with backoff", "online again"]);
    expect(device.offline).toBe(false);
  });
});

describe("--dashboard (the CLI and the real server)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  const WIDGETS = `{ dashboards { id name widgets { id type label deviceId virtualPin key config order device { name } } } }`;
  const expected = (name: string, deviceId: string) => [
    ...["v0", "v1", "v2", "v3"].map((pin) => ({ type: "led", label: `${name} ${pin}`, deviceId, virtualPin: pin, key: null, config: {}, device: { name } })),
    { type: "gauge", label: `${name} temperature`, deviceId, virtualPin: null, key: "temperature", config: { unit: "°C", min: 0, max: 50 }, device: { name } },
    { type: "gauge", label: `${name} humidity`, deviceId, virtualPin: null, key: "humidity", config: { unit: "%", min: 0, max: 100 }, device: { name } },
    { type: "gauge", label: `${name} rssi`, deviceId, virtualPin: null, key: "rssi", config: { unit: "dBm", min: -100, max: -30 }, device: { name } },
  ];
  const shape = ({ id: _id, order: _order, ...rest }: Record<string, unknown>) => rest;

  it("makes a switch per pin and a gauge per sensor; setWidgetState reaches the device; a re-run adds only what is missing", async () => {
    const statePath = join(dir, "dashboard.json");
    const base = ["--url", server.url, "--interval", "1", "--poll", "0.5", "--state", statePath, "--dashboard"];
    const sim = startSim([...base, "--devices", "2", "--verbose"]);
    await sim.waitFor("both devices online", /online 2\/2/, 30_000);
    expect(sim.lines(/^Dashboard /)).toEqual([`Dashboard "${DASHBOARD_NAME}" created: 14 widget(s) added`]);

    const [, email, password] = /Registered demo account: email (\S+) password (\S+)/.exec(sim.lines(/Registered demo account/)[0]!)!;
    const login = await gql(server.url, `mutation ($i: LoginInput!) { login(input: $i) { accessToken } }`, { i: { login: email, password } });
    const token: string = login.data.login.accessToken;
    const ids = () => readFile(statePath, "utf8").then((t) => JSON.parse(t).servers[server.url].devices.map((d: { id: string }) => d.id) as string[]);
    const [id1, id2] = await ids();

    const first = (await gql(server.url, WIDGETS, {}, token)).data.dashboards;
    expect(first).toHaveLength(1);
    expect(first[0].name).toBe(DASHBOARD_NAME);
    expect(first[0].widgets.map(shape)).toEqual([...expected("sim-1", id1!), ...expected("sim-2", id2!)]);
    expect(first[0].widgets.map((w: { order: number }) => w.order)).toEqual([...Array(14).keys()]);

    // The app's switch on sim-2's v0 reaches the running simulated device, which confirms it.
    const lamp = first[0].widgets.find((w: { label: string }) => w.label === "sim-2 v0");
    const set = await gql(server.url, `mutation ($id: ID!) { setWidgetState(id: $id, state: 1) { value pending } }`, { id: lamp.id }, token);
    expect(set.data.setWidgetState).toEqual({ value: 1, pending: true });
    await sim.waitFor("the command at the device", /^device sim-2: Command from (poll|telemetry): v0=1$/m, 10_000);
    const widget = async () => (await gql(server.url, `query ($id: ID!) { widget(id: $id) { value pending } }`, { id: lamp.id }, token)).data.widget;
    await eventually("the confirmation", async () => (await widget()).pending === false, 10_000);
    expect(await widget()).toEqual({ value: 1, pending: false });
    const state = await gql(server.url, `query ($id: ID!) { device(id: $id) { state { reported desired } } }`, { id: id2 }, token);
    expect(state.data.device.state).toMatchObject({ desired: {}, reported: { v0: 1, led: 1 } });
    expect(sim.lines(/Command from/)).toHaveLength(1); // sim-1 got nothing
    expect((await sim.finish()).code).toBe(0);

    // A bigger fleet: the dashboard is found by name and gets sim-3's widgets only.
    const second = await startSim([...base, "--devices", "3", "--duration", "1"]).finish(false);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Dashboard "${DASHBOARD_NAME}" reused: 7 widget(s) added, 14 already there`);
    const [, , id3] = await ids();
    const after = (await gql(server.url, WIDGETS, {}, token)).data.dashboards;
    expect(after.map((d: { id: string }) => d.id)).toEqual([first[0].id]);
    expect(after[0].widgets.slice(0, 14)).toEqual(first[0].widgets);
    expect(after[0].widgets.slice(14).map(shape)).toEqual(expected("sim-3", id3!));

    // Every device reused: the run signs in with the saved demo password and adds nothing.
    const third = await startSim([...base, "--devices", "3", "--duration", "1"]).finish(false);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain("Reusing 3 device(s)");
    expect(third.stdout).toContain(`Dashboard "${DASHBOARD_NAME}" reused: 0 widget(s) added, 21 already there`);
    expect((await gql(server.url, WIDGETS, {}, token)).data.dashboards[0].widgets).toHaveLength(21);
  }, 120_000);

  it("fills the dashboard with whole devices up to the server's 100 widgets and names the ones left out", async () => {
    const account = await signUp(server.url);
    const fleet = [];
    for (let i = 1; i <= 15; i++) fleet.push({ name: `sim-${i}`, ...(await addDevice(server.url, account, `sim-${i}`)) });
    const result = await ensureDashboard(server.url, account.accessToken, fleet);
    expect(result).toMatchObject({ created: true, added: 98, kept: 0, leftOut: ["sim-15"] });
    expect(describeDashboard(result)).toBe(`Dashboard "Simulator" created: 98 widget(s) added; no widgets for sim-15: at most 100 widgets per dashboard`);
    const again = await ensureDashboard(server.url, account.accessToken, fleet);
    expect(again).toEqual({ ...result, created: false, added: 0, kept: 98 });
    const { data } = await gql(server.url, `{ dashboards { widgetCount } }`, {}, account.accessToken);
    expect(data.dashboards).toEqual([{ widgetCount: 98 }]);
  }, 60_000);
});
