import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SimDevice, type SimDeviceOptions } from "../../sim/device.js";
import { applyState, backoffDelay, maskToken, negotiateLongPoll, parseRetryAfter, type Pins } from "../../sim/protocol.js";
import { addDevice, gql, signUp } from "../helpers/graphql.js";
import { sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/fixture.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-sim-"));
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI as `npm run simulate` does; `stopWhen` sends SIGTERM once stdout matches it. */
function simulate(args: string[], stopWhen?: RegExp): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "sim/simulate.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk;
    if (stopWhen?.test(stdout) && child.exitCode === null && !child.killed) child.kill("SIGTERM");
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

const FINAL =
  /Final summary after ([\d.]+) s: devices (\d+) \(online (\d+)(?:, long polling (\d+))?\) \| posts (\d+) \([\d.]+\/s\) \| polls (\d+) \([\d.]+\/s\) \| errors (\d+)[^|]*\| commands applied (\d+)/;

async function simDevicesInDb() {
  const { rows } = await server.services.pool.query<{ id: string; name: string; owner_id: string; reports: number; rows: number }>(
    `SELECT d.id, d.name, d.owner_id,
            (SELECT count(*) FROM telemetry t WHERE t.device_id = d.id AND t.key = 'timestamp')::int AS reports,
            (SELECT count(*) FROM telemetry t WHERE t.device_id = d.id)::int AS rows
       FROM devices d WHERE d.name LIKE 'sim-%' ORDER BY d.name`,
  );
  return rows;
}

describe("npm run simulate (the CLI as a child process)", () => {
  const statePath = () => join(dir, "devices.json");

  it("registers a demo account, creates 5 devices that report and poll, prints a sane summary", async () => {
    // Whether the server offers long polling decides how busy a device is (see below).
    const probe = await addDevice(server.url, await signUp(server.url), "probe");
    const offered = (await fetch(`${server.url}/telemetry/latest?device_token=${probe.token}`)).headers.has("x-long-poll-max");

    const args = ["--url", server.url, "--devices", "5", "--interval", "1", "--poll", "0.5", "--duration", "4", "--state", statePath()];
    const run = await simulate(args);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);

    const [, seconds, devices, online, longPolling, posts, polls, errors, commands] = FINAL.exec(run.stdout)!.map(Number);
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThan(5);
    expect({ devices, online, errors, commands }).toEqual({ devices: 5, online: 5, errors: 0, commands: 0 });
    expect(run.stdout).toMatch(/^\[\s+2 s\] online 5\/5(, long polling 5)? \| posts [\d.]+\/s \| polls [\d.]+\/s \| errors 0 \| commands applied 0$/m);
    if (offered) {
      // One request at a time, as on the ESP32, but a poll is never held past the next report, so reports
      // keep their 1 s schedule. With 1 s between reports a whole second is never left to hold a poll:
      // a poll waits for a report due in under 1 s and goes out plain right after it (one per report).
      expect(longPolling).toBe(5);
      expect(posts).toBeGreaterThanOrEqual(5 * 3);
      expect(posts).toBeLessThanOrEqual(5 * 6);
      expect(polls).toBeGreaterThanOrEqual(5 * 3);
      expect(polls).toBeLessThanOrEqual(5 * 7);
    } else {
      // Boots spread over the first second, then a poll, a report, and one report per second.
      expect(longPolling).toBeNaN();
      expect(posts).toBeGreaterThanOrEqual(5 * 3);
      expect(posts).toBeLessThanOrEqual(5 * 6);
      expect(polls).toBeGreaterThanOrEqual(5 * 5);
      expect(polls).toBeLessThanOrEqual(5 * 10);
    }

    const rows = await simDevicesInDb();
    expect(rows.map((r) => r.name)).toEqual(["sim-1", "sim-2", "sim-3", "sim-4", "sim-5"]);
    expect(new Set(rows.map((r) => r.owner_id)).size).toBe(1);
    for (const r of rows) expect(r.reports).toBeGreaterThan(0);
    // Every 200 was committed first; a report cut by the final stop may be stored without being counted.
    const stored = rows.reduce((n, r) => n + r.reports, 0);
    expect(stored).toBeGreaterThanOrEqual(posts!);
    expect(stored).toBeLessThanOrEqual(posts! + 5);

    // The printed demo credentials work, and the devices hold what firmware reports.
    const [, email, password] = /Registered demo account: email (\S+) password (\S+)/.exec(run.stdout)!;
    const login = await gql(server.url, `mutation ($i: LoginInput!) { login(input: $i) { accessToken } }`, { i: { login: email, password } });
    const list = await gql(server.url, `{ devices { name state { reported } } }`, {}, login.data.login.accessToken);
    expect(list.data.devices).toHaveLength(5);
    for (const { state } of list.data.devices) {
      const r = state.reported;
      expect(Object.keys(r).slice(0, 9)).toEqual(["v0", "v1", "v2", "v3", "led", "timestamp", "temperature", "humidity", "rssi"]);
      expect(r).toMatchObject({ v0: 0, v1: 0, v2: 0, v3: 0, led: 0, "stats.failed": 0 });
      expect(r.temperature).toBeGreaterThanOrEqual(20);
      expect(r.temperature).toBeLessThanOrEqual(30);
      expect(r.humidity).toBeGreaterThanOrEqual(40);
      expect(r.humidity).toBeLessThanOrEqual(70);
    }

    const file = JSON.parse(await readFile(statePath(), "utf8"));
    const tokens: string[] = file.servers[server.url].devices.map((d: { token: string }) => d.token);
    expect(tokens).toHaveLength(5);
    expect((await stat(statePath())).mode & 0o777).toBe(0o600);
    for (const token of tokens) expect(run.stdout + run.stderr).not.toContain(token);
    expect(run.stdout).toContain(`token ${maskToken(tokens[0]!)}`);
  }, 60_000);

  it("reuses the devices of the state file, polls plainly with --no-long-poll, ends cleanly on SIGTERM", async () => {
    const before = await simDevicesInDb();
    const args = ["--url", server.url, "--devices", "5", "--interval", "1", "--poll", "0.5", "--no-long-poll", "--state", statePath()];
    const run = await simulate(args, /^\[\s+4 s\] online 5\/5/m);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Reusing 5 device(s)`);
    expect(run.stdout).not.toContain("long polling");
    expect(run.stderr).toBe("stopped by SIGTERM\n");
    const [, , devices, , , posts, polls, errors] = FINAL.exec(run.stdout)!.map(Number);
    expect({ devices, errors }).toEqual({ devices: 5, errors: 0 });
    // 4 s of one report per second and two polls per second (boots spread over the first second).
    expect(posts).toBeGreaterThanOrEqual(5 * 3);
    expect(polls).toBeGreaterThanOrEqual(5 * 6);
    const after = await simDevicesInDb();
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(after.every((r, i) => r.reports >= before[i]!.reports + 3)).toBe(true);
  }, 60_000);

  it("refuses bad options with a usage message and exit code 2", async () => {
    const run = await simulate(["--devices", "0"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--devices must be an integer[\s\S]*Usage: npm run simulate/);
  }, 30_000);
});

describe("protocol pieces (the firmware's rules)", () => {
  it("backs off with equal jitter, base 1 s, cap 60 s, exactly as firmware/tests/backoff_test.cpp", () => {
    const low = Array.from({ length: 9 }, (_, i) => backoffDelay(i + 1, 1000, 60_000, () => 0));
    expect(low).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    const high = Array.from({ length: 8 }, (_, i) => backoffDelay(i + 1, 1000, 60_000, () => 0.999999));
    expect(high).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(backoffDelay(1000, 1000, 60_000, () => 0.999999)).toBe(60000);
  });

  it("reads Retry-After and X-Long-Poll-Max as plain integers, clamped", () => {
    expect([parseRetryAfter("7"), parseRetryAfter(" 0 "), parseRetryAfter("99999"), parseRetryAfter("soon"), parseRetryAfter(null)]).toEqual([
      7,
      1,
      3600,
      undefined,
      undefined,
    ]);
    expect([negotiateLongPoll("40"), negotiateLongPoll("10"), negotiateLongPoll(null), negotiateLongPoll("1.5")]).toEqual([25, 10, 0, 0]);
  });

  it("applies vN (numbers, booleans), falls back to led only without any vN, counts only real changes", () => {
    const pins: Pins = { v0: 0, v1: 0, v2: 0, v3: 0 };
    expect(applyState({ v0: 1, v1: true, v2: "1", v3: null, v9: 1, led: 0 }, pins)).toEqual([
      { pin: "v0", level: 1 },
      { pin: "v1", level: 1 },
    ]);
    expect(applyState({ v0: 5, v1: 1 }, pins)).toEqual([]); // already HIGH: no command
    expect(applyState({ led: 0, temperature: 20 }, pins)).toEqual([{ pin: "v0", level: 0 }]);
    expect(applyState({ v7: 1, led: 1 }, pins)).toEqual([]); // a vN key is present, so led is not read
    expect(pins).toEqual({ v0: 0, v1: 1, v2: 0, v3: 0 });
  });
});

const running: SimDevice[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) d.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function startDevice(options: Partial<SimDeviceOptions> & Pick<SimDeviceOptions, "baseUrl" | "id" | "token">) {
  const device = new SimDevice({ name: "sim-t", random: () => 0, ...options });
  running.push(device);
  return { device, done: device.run() };
}

describe("SimDevice against the real server", () => {
  it("applies a command from the app, confirms it at once, and the server clears desired", async () => {
    const account = await signUp(server.url);
    const { id, token } = await addDevice(server.url, account, "sim-cmd");
    const commands: string[] = [];
    // The firmware's timing (poll 3 s, report 10 s): only a prompt confirmation beats the report slot.
    const { device } = startDevice({ baseUrl: server.url, id, token, listener: { command: (_d, c) => commands.push(`${c.pin}=${c.level}`) } });
    await eventually("the boot report", () => device.counters.sent === 1);
    const longPolling = device.longPollWaitS > 0;
    if (longPolling) await sleep(3_300); // the second poll (3 s after the first) is now held by the server

    const started = Date.now();
    const set = await gql(
      server.url,
      `mutation ($id: ID!, $d: JSONObject!) { setDeviceState(deviceId: $id, desired: $d) { desired } }`,
      { id, d: { v1: 1, v3: true } },
      account.accessToken,
    );
    expect(set.data.setDeviceState.desired).toEqual({ v1: 1, v3: true });
    const state = async () =>
      (await gql(server.url, `query ($id: ID!) { device(id: $id) { state { desired reported } } }`, { id }, account.accessToken)).data.device.state;
    await eventually("the confirmation", async () => Object.keys((await state()).desired).length === 0, 6_000);
    // A held long poll answers at once; a plain poll comes within 3 s.
    expect(Date.now() - started).toBeLessThan(longPolling ? 1_000 : 4_500);

    expect(device.pins).toEqual({ v0: 0, v1: 1, v2: 0, v3: 1 });
    expect(commands.sort()).toEqual(["v1=1", "v3=1"]);
    expect(device.counters.sent).toBe(2); // the boot report and the confirmation, not the 10 s slot
    expect((await state()).reported).toMatchObject({ v1: 1, v3: 1, led: 0, "stats.commands": 2 });
  }, 20_000);
});

type Kind = "poll" | "telemetry" | "health";
type Reply = { status?: number; body?: unknown; headers?: Record<string, string> } | "destroy";
const ID = "7d1f6a2e-0000-4000-8000-000000000001";
const TOKEN = "tok_0123456789abcdef";

/** A stand-in server on 127.0.0.1 that answers by script and records every request with its arrival time. */
async function fakeServer(reply: (kind: Kind, n: number) => Reply = () => ({})) {
  const seen: Array<{ kind: Kind; n: number; url: string; at: number; body: string }> = [];
  const counts: Record<Kind, number> = { poll: 0, telemetry: 0, health: 0 };
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      const kind: Kind = req.url!.startsWith("/telemetry/latest") ? "poll" : req.url === "/health" ? "health" : "telemetry";
      const n = ++counts[kind];
      seen.push({ kind, n, url: req.url!, at: performance.now(), body });
      const r = reply(kind, n);
      if (r === "destroy") {
        req.socket.destroy(); // a proxy cutting a held connection
        return;
      }
      const fallback = kind === "poll" ? { device_id: ID, data: {}, timestamp: null } : { message: "ok", device_id: ID, data: {}, timestamp: null };
      res.writeHead(r.status ?? 200, { "content-type": "application/json", ...r.headers });
      res.end(JSON.stringify(r.body ?? fallback));
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { url, seen, of: (kind: Kind) => seen.filter((r) => r.kind === kind) };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe("SimDevice reactions (scripted local server)", () => {
  it("retries 503s with exponential backoff per request kind; reports keep their own schedule", async () => {
    const fake = await fakeServer((kind, n) => (kind === "poll" && n <= 3 ? { status: 503, body: { detail: "storage unavailable" } } : {}));
    const errors: string[] = [];
    startDevice({
      baseUrl: fake.url,
      id: ID,
      token: TOKEN,
      pollIntervalMs: 60_000,
      telemetryIntervalMs: 150,
      backoffBaseMs: 200, // with random() = 0 the waits are 100, 200, 400 ms
      listener: { error: (_d, kind, what) => errors.push(`${kind} ${what}`) },
    });
    await eventually("the fourth poll", () => fake.of("poll").length === 4);
    const polls = fake.of("poll").map((r) => r.at);
    gaps(polls).forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual([100, 200, 400][i]! - 2);
      expect(gap).toBeLessThan([100, 200, 400][i]! + 150);
    });
    expect(errors).toEqual(["poll 503", "poll 503", "poll 503"]);
    // Reports were not slowed by the failing polls: several went out during the 700 ms of retries.
    expect(fake.of("telemetry").filter((r) => r.at > polls[0]! && r.at < polls[3]!).length).toBeGreaterThanOrEqual(3);
    // The report body is the firmware's, keys in its order.
    const first = JSON.parse(fake.of("telemetry")[0]!.body);
    expect(first.device_token).toBe(TOKEN);
    expect(Object.keys(first.data)).toEqual([
      ...["v0", "v1", "v2", "v3", "led", "timestamp", "temperature", "humidity", "rssi"],
      ...["stats.sent", "stats.failed", "stats.polls", "stats.commands", "stats.reconnects", "stats.free_heap", "stats.uptime_s"],
    ]);
  });

  it("honours Retry-After of a 429 for every request kind, and backs off when it is unusable", async () => {
    const fake = await fakeServer((kind, n) =>
      kind === "poll" && n === 1 ? { status: 429, headers: { "retry-after": "1" }, body: { detail: "Rate limit exceeded" } } : {},
    );
    const lines: string[] = [];
    startDevice({ baseUrl: fake.url, id: ID, token: TOKEN, pollIntervalMs: 100, telemetryIntervalMs: 100, listener: { line: (_d, t) => lines.push(t) } });
    await eventually("requests after the pause", () => fake.seen.length >= 4);
    const [limited, ...rest] = fake.seen;
    expect(limited!.kind).toBe("poll");
    for (const r of rest) expect(r.at - limited!.at).toBeGreaterThanOrEqual(998); // health and reports waited too
    expect(lines).toContain("poll rate limited (429); pausing all requests for 1000 ms");

    const odd = await fakeServer((kind, n) => (kind === "poll" && n === 1 ? { status: 429, headers: { "retry-after": "soon" } } : {}));
    startDevice({ baseUrl: odd.url, id: ID, token: TOKEN, pollIntervalMs: 60_000, backoffBaseMs: 200 });
    await eventually("the retried poll", () => odd.of("poll").length === 2);
    const [gap] = gaps(odd.of("poll").map((r) => r.at));
    expect(gap).toBeGreaterThanOrEqual(98);
    expect(gap).toBeLessThan(400);
  });

  it("stops on 403 with a message and sends nothing more", async () => {
    const fake = await fakeServer((kind) => (kind === "poll" ? { status: 403, body: { detail: "Invalid device token" } } : {}));
    const lines: string[] = [];
    const { device, done } = startDevice({ baseUrl: fake.url, id: ID, token: TOKEN, pollIntervalMs: 50, listener: { line: (_d, t) => lines.push(t) } });
    await done;
    expect(device.state).toBe("forbidden");
    expect(lines).toEqual(["the server rejected the device token (403); this device stops"]);
    await sleep(200);
    expect(fake.seen.map((r) => r.kind)).toEqual(["poll"]);
  });

  it("negotiates long polling from X-Long-Poll-Max and falls back to plain polling when a held poll fails", async () => {
    const script: Reply[] = [
      { headers: { "x-long-poll-max": "40" } },
      { headers: { "x-long-poll-max": "10" } },
      {}, // no header: plain polling again
      { headers: { "x-long-poll-max": "5" } },
      "destroy",
      {},
    ];
    const fake = await fakeServer((kind, n) => (kind === "poll" ? (script[n - 1] ?? {}) : {}));
    startDevice({ baseUrl: fake.url, id: ID, token: TOKEN, pollIntervalMs: 30, backoffBaseMs: 100, telemetryIntervalMs: 60_000 });
    await eventually("six polls", () => fake.of("poll").length >= 6);
    const waits = fake.of("poll").slice(0, 6).map((r) => new URL(r.url, "http://x").searchParams.get("wait"));
    expect(waits).toEqual([null, "25", "10", null, "5", null]);
    expect(fake.of("poll")[0]!.url).toBe(`/telemetry/latest?device_token=${TOKEN}`);
  });
});

/**
 * A local server that offers long polling (X-Long-Poll-Max: 30) and holds each poll for its whole `wait`,
 * unless a command comes in meanwhile: then it answers the held poll at once, as the real server does.
 */
async function holdingServer() {
  const seen: Array<{ kind: Kind; url: string; wait: number; at: number; body: string }> = [];
  const held = new Set<() => void>();
  let command: Record<string, number> | undefined;
  let delivered = false;
  const state = () => ({ device_id: ID, data: command ?? {}, timestamp: null });
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      const kind: Kind = req.url!.startsWith("/telemetry/latest") ? "poll" : req.url === "/health" ? "health" : "telemetry";
      const wait = Number(new URL(req.url!, "http://x").searchParams.get("wait") ?? 0);
      seen.push({ kind, url: req.url!, wait, at: performance.now(), body });
      const answer = () => {
        held.delete(answer);
        clearTimeout(timer);
        if (kind === "poll" && command) delivered = true;
        res.writeHead(200, { "content-type": "application/json", "x-long-poll-max": "30" });
        res.end(JSON.stringify(kind === "telemetry" ? { message: "ok", ...state() } : state()));
      };
      const hold = kind === "poll" && wait > 0 && !(command && !delivered);
      const timer = setTimeout(answer, hold ? wait * 1000 : 0);
      if (hold) held.add(answer);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    of: (kind: Kind) => seen.filter((r) => r.kind === kind),
    holding: () => held.size,
    /** The app switches a pin: held polls answer now. */
    command(values: Record<string, number>) {
      command = values;
      delivered = false;
      for (const answer of [...held]) answer();
    },
  };
}

describe("SimDevice long polling (one request at a time, like the firmware)", () => {
  it("holds polls only until the next report: reports keep their schedule, commands still arrive at once", { timeout: 30_000 }, async () => {
    const fake = await holdingServer();
    const commands: string[] = [];
    const { device } = startDevice({
      baseUrl: fake.url,
      id: ID,
      token: TOKEN,
      telemetryIntervalMs: 2_200, // long polls of 2 s fill the gaps: floor(2.2 s - a few ms)
      pollIntervalMs: 200,
      listener: { command: (_d, c) => commands.push(`${c.pin}=${c.level}`) },
    });
    await eventually("three reports", () => fake.of("telemetry").length === 3, 10_000);
    expect(device.longPollWaitS).toBe(25); // negotiated from the server's 30; each poll asks for less

    // Switch while a poll is held: it answers at once, the device applies and confirms at once.
    await eventually("a held poll", () => fake.holding() === 1, 5_000);
    await sleep(300);
    const commandedAt = performance.now();
    fake.command({ v0: 1 });
    await eventually("the confirmation", () => fake.of("telemetry").some((r) => JSON.parse(r.body).data.v0 === 1), 2_000);
    const confirmation = fake.of("telemetry").find((r) => JSON.parse(r.body).data.v0 === 1)!;
    expect(confirmation.at - commandedAt).toBeLessThan(300);
    expect(commands).toEqual(["v0=1"]);
    expect(device.pins.v0).toBe(1);

    await eventually("two reports after the confirmation", () => fake.of("telemetry").filter((r) => r.at > confirmation.at).length === 2, 6_000);
    device.stop();
    const reports = fake.of("telemetry").map((r) => r.at);
    // Boot: the first poll learns the header, the first report follows at once; then every 2.2 s
    // (the confirmation starts the next interval). A held poll never pushed a report back.
    const regular = reports.slice(1).filter((t) => t !== confirmation.at);
    expect(regular.length).toBe(4);
    const slots = reports.slice(1).map((t, i, all) => [all[i - 1], t] as const).filter(([prev, t]) => prev !== undefined && t !== confirmation.at);
    for (const [prev, t] of slots) {
      // Timers may fire a few ms early against performance.now(): early by more than 50 ms would be a report pushed forward.
      expect(t - prev!).toBeGreaterThanOrEqual(2_200 - 50);
      expect(t - prev!).toBeLessThan(2_200 + 250);
    }
    // Polls: the boot one plain, then one held poll right after each report, asking for the 2 whole seconds
    // left (or less after the command cut one short). None was held past the next report.
    const polls = fake.of("poll");
    expect(polls[0]!.wait).toBe(0);
    for (const poll of polls.slice(1)) {
      expect(poll.wait).toBeGreaterThanOrEqual(1);
      expect(poll.wait).toBeLessThanOrEqual(2);
      const nextReport = [reports[0]!, ...regular].find((t) => t > poll.at); // the confirmation was not scheduled
      if (nextReport !== undefined) expect(poll.at + poll.wait * 1000).toBeLessThanOrEqual(nextReport + 5);
    }
    const afterBoot = reports.slice(1);
    for (const [i, t] of afterBoot.entries()) {
      // Between two reports exactly one held poll, except around the command (its answer and the next).
      const next = afterBoot[i + 1];
      if (next === undefined || (t < confirmation.at && next >= confirmation.at)) continue;
      expect(polls.filter((p) => p.at > t && p.at < next).length).toBe(1);
    }
  });
});
