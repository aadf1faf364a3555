// The simulator answers update offers as the firmware does (sim/ota.ts): fw_version at start, the image from
// GET /firmware/update with its SHA-256 checked, fw_state at each step, the new fw_version after the "reboot";
// --ota-failure-rate makes that share of the fleet report FAILED.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimDevice } from "../../sim/device.js";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/fixture.js";
import { testImage } from "./host-device.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let server: TestServer;
let account: Account;
let dir: string;
const running: SimDevice[] = [];
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  account = await signUp(server.url);
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-sim-ota-"));
}, 60_000);
afterAll(async () => {
  for (const d of running) d.stop();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI as `npm run simulate` does. */
function simulate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "sim/simulate.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

const q = (query: string, variables: Record<string, unknown> = {}) => gql(server.url, query, variables, account.accessToken);

describe("simulated devices and over-the-air updates", () => {
  it("one device updates to the offered version, one reports FAILED; the release records both", { timeout: 90_000 }, async () => {
    const good = await addDevice(server.url, account, "sim-ota-good");
    const bad = await addDevice(server.url, account, "sim-ota-bad");
    const lines: string[] = [];
    for (const [d, fails] of [
      [good, false],
      [bad, true],
    ] as const) {
      const device = new SimDevice({
        baseUrl: server.url,
        ...d,
        name: fails ? "bad" : "good",
        telemetryIntervalMs: 300,
        pollIntervalMs: 200,
        firmwareVersion: "1.0.0",
        otaFails: fails,
        listener: { line: (dev, text) => lines.push(`${dev.name}: ${text}`) },
      });
      running.push(device);
      void device.run();
    }
    const versions = async () => (await q(`{ devices { id firmwareVersion } }`)).data?.devices as Array<{ id: string; firmwareVersion: string | null }>;
    await eventually("both devices reporting fw_version 1.0.0", async () => (await versions()).every((d) => d.firmwareVersion === "1.0.0"), 20_000);

    const image = testImage("1.1.0", 40_000);
    const upload = await fetch(`${server.url}/firmware?title=sim-fw&version=1.1.0`, {
      method: "POST",
      headers: { authorization: `Bearer ${account.accessToken}`, "content-type": "application/octet-stream" },
      body: image,
    });
    const artifact = (await upload.json()) as { id: string };
    expect(upload.status, JSON.stringify(artifact)).toBe(201);
    // 100 %: one failure of two finished devices must not abort this release.
    const created = await q(`mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { id } }`, {
      i: { firmwareId: artifact.id, deviceIds: [good.id, bad.id], abortFailurePercent: 100, minFinished: 2 },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data.createRelease.id;

    const release = await eventually(
      "both devices finished",
      async () => {
        const r = (await q(`query ($id: ID!) { release(id: $id) { status counts { updated failed } devices { device { id } state fromVersion error } } }`, { id })).data
          ?.release;
        return r?.counts.updated === 1 && r.counts.failed === 1 ? r : undefined;
      },
      40_000,
    );
    const byId = Object.fromEntries(release.devices.map((d: any) => [d.device.id, d]));
    expect(byId[good.id], lines.join("\n")).toMatchObject({ state: "UPDATED", fromVersion: "1.0.0", error: null });
    expect(byId[bad.id]).toMatchObject({ state: "FAILED", fromVersion: "1.0.0", error: "simulated failure (--ota-failure-rate)" });
    expect(running[0]!.firmwareVersion).toBe("1.1.0");
    expect(running[1]!.firmwareVersion).toBe("1.0.0");
    await eventually("fw_version 1.1.0 on the updated device", async () => (await versions()).find((d) => d.id === good.id)?.firmwareVersion === "1.1.0");
    expect(lines).toContain("good: OTA rebooted into 1.1.0");
    expect(lines).toContain("bad: OTA failed: simulated failure (--ota-failure-rate)");
  });

  it("the CLI reports --firmware-version, refuses a rate outside 0..1 or without a version", { timeout: 60_000 }, async () => {
    const refused = await simulate(["--url", server.url, "--firmware-version", "1.0.0", "--ota-failure-rate", "1.5"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--ota-failure-rate must be a number 0..1, got "1.5"');
    const alone = await simulate(["--url", server.url, "--ota-failure-rate", "0.5"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--ota-failure-rate needs --firmware-version");

    const run = await simulate(["--url", server.url, "--devices", "1", "--interval", "0.5", "--firmware-version", "3.1.4", "--duration", "2", "--state", join(dir, "devices.json")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const [, email, password] = /Registered demo account: email (\S+) password (\S+)/.exec(run.stdout)!;
    const login = await gql(server.url, `mutation ($i: LoginInput!) { login(input: $i) { accessToken } }`, { i: { login: email, password } });
    const list = await gql(server.url, `{ devices { firmwareVersion } }`, {}, login.data.login.accessToken);
    expect(list.data.devices).toEqual([{ firmwareVersion: "3.1.4" }]);
  });
});
