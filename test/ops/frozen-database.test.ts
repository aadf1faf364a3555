import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, startEmbedded, type EmbeddedDatabase } from "../../src/platform/db/embedded.js";
import { createDevice, createUser, http, sleep, startTestServer, type TestServer } from "../helpers/server.js";

/**
 * A frozen database (SIGSTOP on every process of an embedded PostgreSQL: a stalled disk or a network
 * partition looks like this): requests are answered 503 within a bound instead of hanging, and the
 * server recovers by itself when it thaws.
 */
let dir: string;
let db: EmbeddedDatabase;
let server: TestServer;
let pids: number[] = [];

async function clusterPids(): Promise<number[]> {
  const postmaster = Number((await readFile(join(dir, "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
  const children = execFileSync("pgrep", ["-P", String(postmaster)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .filter(Boolean)
    .map(Number);
  return [postmaster, ...children];
}
const signal = (name: NodeJS.Signals) => pids.forEach((pid) => process.kill(pid, name));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "thingsnxt-frozen-"));
  db = await startEmbedded(dir, await freePort(), pino({ level: "silent" }));
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" }, db.url);
});
afterAll(async () => {
  if (pids.length) signal("SIGCONT");
  await server?.close();
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

it("answers device requests 503 within the bound while the database is frozen, and recovers when it thaws", async () => {
  const device = await createDevice(server, await createUser(server));
  const report = (n: number) => http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n } } });
  expect((await report(0)).status).toBe(200);
  pids = await clusterPids();
  signal("SIGSTOP");
  try {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => report(i + 1).then((r) => ({ ...r, ms: Date.now() - started }))));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ detail: "Storage is unavailable; nothing was stored, retry later" });
    }
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(6500); // the 5 s query bound, plus a margin for a busy machine
    expect((await http(server.url, "GET", "/health/live")).status).toBe(200);
  } finally {
    signal("SIGCONT");
    pids = [];
  }
  let recovered = 0;
  for (let i = 0; i < 50 && recovered !== 200; i++) {
    recovered = (await report(100 + i)).status;
    if (recovered !== 200) await sleep(200);
  }
  expect(recovered).toBe(200);
}, 60_000);

it("devices it has not seen yet are answered 503 within the bound too, however many arrive while it is frozen", async () => {
  const owner = await createUser(server);
  const fleet = [];
  for (let i = 0; i < 40; i++) fleet.push(await createDevice(server, owner, `cold${i}`));
  server.services.directory.forgetAll(); // none of their tokens is known in memory
  pids = await clusterPids();
  signal("SIGSTOP");
  try {
    // Four waves, 2 s apart: the later ones arrive while the earlier look-ups are still waiting.
    const answers = await Promise.all(
      fleet.map(async (device, i) => {
        await sleep(Math.floor(i / 10) * 2000);
        const sent = Date.now();
        const res = await http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n: i } } });
        return { status: res.status, ms: Date.now() - sent };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(fleet.map(() => 503));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(6500);
  } finally {
    signal("SIGCONT");
    pids = [];
  }
}, 60_000);
