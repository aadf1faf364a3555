// End to end: an over-the-air update of host_device (the firmware core on the PC) through the real
// server. A test image is uploaded (POST /firmware), released to the device (createRelease); the
// device hears the offer in its state, downloads it in Range chunks into its file-backed "flash"
// (two slot files), checks the SHA-256, "reboots" (re-executes itself) into the new version, confirms
// it once it reached the server and reports it. See firmware/README.md ("Over-the-air updates").
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { subscribe, type Live } from "../helpers/ws.js";
import { buildHostDevice, HOST_DEVICE, HostDevice, testImage } from "./host-device.js";

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

const UPDATE_CHANGED = `subscription ($id: ID!) { firmwareUpdateChanged(releaseId: $id) { releaseId deviceId state error releaseStatus } }`;

let server: TestServer;
let dir: string;
let account: Account;
let device: { id: string; token: string };
let host: HostDevice | undefined;
let live: Live | undefined;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-ota-e2e-"));
  account = await signUp(server.url);
  device = await addDevice(server.url, account, "host-esp32-ota");
}, 120_000);

afterAll(async () => {
  host?.kill("SIGKILL");
  await live?.dispose();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const args = (name = "") => [
  ...["--store", join(dir, `nvs${name}.json`), "--flash", join(dir, `flash${name}`), "--firmware-version", "1.0.0"],
  ...["--telemetry-ms", "2000", "--poll-ms", "500", "--health-ms", "60000", "--debug", "on"],
];

async function stop(h: HostDevice): Promise<void> {
  h.kill("SIGTERM");
  expect(await h.exited, h.tail()).toEqual({ code: 0, signal: null });
}

const firmwareVersion = async (id = device.id) =>
  (await gql(server.url, `query ($id: ID!) { device(id: $id) { firmwareVersion } }`, { id }, account.accessToken)).data?.device?.firmwareVersion;

const releaseOf = async (id: string) =>
  (
    await gql(
      server.url,
      `query ($id: ID!) { release(id: $id) { status counts { targeted updated failed rolledBack } devices(first: 10) { device { id } state fromVersion error } } }`,
      { id },
      account.accessToken,
    )
  ).data?.release;

/**
 * A TCP relay between a device and the server, a real network path the test can cut: `open = false` refuses new
 * connections. With `cutAfter`, the relay cuts itself once a request containing that text has been answered.
 */
class Relay {
  open = true;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  constructor(
    target: URL,
    private readonly cutAfter?: string,
  ) {
    this.server = createServer((client) => {
      if (!this.open) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      let cut = false;
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("error", () => undefined);
        s.on("close", () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
          if (cut) this.open = false;
        });
      }
      client.on("data", (chunk: Buffer) => {
        if (this.cutAfter && chunk.includes(this.cutAfter)) cut = true;
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(this.server.address() as { port: number }).port}`)));
  }
  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

/** Polls `probe` until it returns something `done` accepts; the last value on timeout. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("over-the-air update of host_device against the real server", () => {
  it("builds with make -C firmware host", { timeout: 600_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    const { code, output } = await buildHostDevice();
    expect(code, output.slice(-3000)).toBe(0);
    expect(existsSync(HOST_DEVICE)).toBe(true);
  });

  it("downloads, verifies, reboots into the new version, confirms it and the release shows it UPDATED", { timeout: 180_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    // First boot: provisioned over the console, reports fw_version 1.0.0, and its boot check finds nothing (304).
    let h = (host = new HostDevice(args()));
    await h.waitFor(/^BOOT slot 0 version 1\.0\.0$/);
    await h.waitFor(/^UNPROVISIONED /);
    h.type(`provision ${device.id} ${device.token} ${server.url}`);
    const ready = await h.waitFor(/^READY$/);
    await h.waitFor(/^Telemetry sent \(HTTP 200\)$/, 10_000, ready.index);
    await h.waitFor(/^OTA check: no update offered$/, 10_000, ready.index);
    expect(await until(firmwareVersion, (v) => v === "1.0.0", 10_000)).toBe("1.0.0");
    await stop(h);

    // The image: 150 kB, so ten Range requests of 16 KiB.
    const image = testImage("1.1.0", 150_000);
    const sha256 = createHash("sha256").update(image).digest("hex");
    const upload = await fetch(`${server.url}/firmware?title=host-fw&version=1.1.0`, {
      method: "POST",
      headers: { authorization: `Bearer ${account.accessToken}`, "content-type": "application/octet-stream" },
      body: image,
    });
    const artifact = (await upload.json()) as { id: string; sha256: string; size: number };
    expect(upload.status, JSON.stringify(artifact)).toBe(201);
    expect(artifact).toMatchObject({ sha256, size: image.length });

    const created = await gql(
      server.url,
      `mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { id status } }`,
      { i: { firmwareId: artifact.id, deviceIds: [device.id] } },
      account.accessToken,
    );
    expect(created.errors).toBeUndefined();
    const releaseId: string = created.data.createRelease.id;
    live = await subscribe(server.url, account.accessToken, UPDATE_CHANGED, { id: releaseId });
    // Pause and resume while the device is off: the PAUSED event proves the subscription is live before the device starts.
    const paused = await gql(server.url, `mutation ($id: ID!) { pauseRelease(id: $id) { status } }`, { id: releaseId }, account.accessToken);
    expect(paused.data?.pauseRelease, JSON.stringify(paused.errors)).toEqual({ status: "PAUSED" });
    for (;;) if ((await live.next(10_000)).firmwareUpdateChanged.releaseStatus === "PAUSED") break;
    const resumed = await gql(server.url, `mutation ($id: ID!) { resumeRelease(id: $id) { status } }`, { id: releaseId }, account.accessToken);
    expect(resumed.data?.resumeRelease, JSON.stringify(resumed.errors)).toEqual({ status: "ACTIVE" });

    // Second boot: the offer comes with the first poll (or a long poll); the device downloads, checks, switches slots and re-executes itself.
    h = host = new HostDevice(args());
    // Usually in the first poll's state; when the resumed release's offer lands a moment later, the boot check finds it.
    await h.waitFor(/^OTA_OFFER 1\.1\.0 \(150000 bytes\) from (state|GET \/firmware\/update); downloading$/, 20_000);
    await h.waitFor(/^OTA_DOWNLOADED 1\.1\.0 \(150000 bytes, sha256 verified\)$/, 60_000);
    const reboot = await h.waitFor(/^REBOOTING$/, 20_000);
    await h.waitFor(/^BOOT slot 1 version 1\.1\.0 \(on trial\)$/, 10_000, reboot.index);
    await h.waitFor(/^OTA_CONFIRMED 1\.1\.0 marked valid$/, 20_000, reboot.index);
    // Once confirmed, the boot check asks again and gets 304: the release is done for this device.
    await h.waitFor(/^OTA check: no update offered$/, 20_000, reboot.index);
    expect(await readFile(join(dir, "flash", "slot1.bin"))).toEqual(image);

    // The subscription saw the device's way through the release, in order.
    const states: string[] = [];
    while (!states.includes("UPDATED")) {
      const event = (await live.next(30_000)).firmwareUpdateChanged;
      if (event.deviceId === device.id && event.state) states.push(event.state);
    }
    const steps = ["DOWNLOADING", "DOWNLOADED", "UPDATING", "UPDATED"];
    expect(states.filter((s) => steps.includes(s)), states.join(" ")).toEqual(steps);
    expect(states).not.toContain("FAILED");

    const release = await until(() => releaseOf(releaseId), (r) => r?.status === "COMPLETED", 20_000);
    expect(release).toMatchObject({ status: "COMPLETED", counts: { targeted: 1, updated: 1, failed: 0, rolledBack: 0 } });
    expect(release.devices).toEqual([{ device: { id: device.id }, state: "UPDATED", fromVersion: "1.0.0", error: null }]);
    expect(await until(firmwareVersion, (v) => v === "1.1.0", 10_000)).toBe("1.1.0");

    await stop(h);
    expect(h.lines.at(-1)?.text).toBe("STOPPED");
    expect(h.stdout).not.toContain(device.token);
  });

  it("a new image that cannot reach the server rolls back by itself; the release shows ROLLED_BACK", { timeout: 180_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, SKIP_REASON);
    const second = await addDevice(server.url, account, "host-esp32-rollback");
    // The device reaches the server through a relay that cuts the network once the UPDATING report went through.
    const relay = new Relay(new URL(server.url), '"fw_state":"UPDATING"');
    const via = await relay.listen();
    try {
      const h = (host = new HostDevice([...args("-rollback"), "--ota-confirm-ms", "4000"]));
      await h.waitFor(/^UNPROVISIONED /);
      h.type(`provision ${second.id} ${second.token} ${via}`);
      const ready = await h.waitFor(/^READY$/);
      await h.waitFor(/^OTA check: no update offered$/, 10_000, ready.index);

      const image = testImage("1.2.0", 60_000);
      const upload = await fetch(`${server.url}/firmware?title=host-fw&version=1.2.0`, {
        method: "POST",
        headers: { authorization: `Bearer ${account.accessToken}`, "content-type": "application/octet-stream" },
        body: image,
      });
      const artifact = (await upload.json()) as { id: string };
      expect(upload.status, JSON.stringify(artifact)).toBe(201);
      const created = await gql(
        server.url,
        `mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { id } }`,
        { i: { firmwareId: artifact.id, deviceIds: [second.id] } },
        account.accessToken,
      );
      expect(created.errors).toBeUndefined();
      const releaseId: string = created.data.createRelease.id;

      // The offer reaches the device on its held long poll; the new image boots on trial and finds no server.
      const reboot = await h.waitFor(/^REBOOTING$/, 60_000);
      await h.waitFor(/^BOOT slot 1 version 1\.2\.0 \(on trial\)$/, 10_000, reboot.index);
      const rollback = await h.waitFor(/^OTA_ROLLBACK the new image did not reach the server within 4 s; rolling back$/, 20_000, reboot.index);
      expect(relay.open).toBe(false);
      expect(h.lines.slice(reboot.index, rollback.index).map((l) => l.text)).not.toContain("OTA_CONFIRMED 1.2.0 marked valid");
      await h.waitFor(/^BOOT slot 0 version 1\.0\.0$/, 10_000, rollback.index);
      await h.waitFor(/^OTA_ROLLED_BACK image 1\.2\.0 did not stay; running 1\.0\.0 again$/, 10_000, rollback.index);

      // The network is back: the old image reports its version, which the server takes as the rollback.
      relay.open = true;
      const release = await until(() => releaseOf(releaseId), (r) => r?.devices?.[0]?.state === "ROLLED_BACK", 30_000);
      expect(release.devices, h.tail()).toMatchObject([{ device: { id: second.id }, state: "ROLLED_BACK", fromVersion: "1.0.0" }]);
      expect(release.counts).toMatchObject({ targeted: 1, updated: 0, rolledBack: 1 });
      expect(await until(() => firmwareVersion(second.id), (v) => v === "1.0.0", 10_000)).toBe("1.0.0");
      // The boot check after the rollback: the offer is gone, and the device does not take the image again.
      const back = await h.waitFor(/^OTA check: no update offered$/, 20_000, rollback.index);
      expect(h.lines.slice(rollback.index, back.index).map((l) => l.text).filter((t) => t.startsWith("OTA_OFFER"))).toEqual([]);
      await stop(h);
    } finally {
      relay.close();
    }
  });
});
