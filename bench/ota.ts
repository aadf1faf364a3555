/**
 * Issue 15's table: 200 devices downloading a 1.5 MB image at once from GET /firmware/update, beside
 * a bare node:http server sending the same bytes from memory (the ceiling, same run), the server's
 * resident memory growth meanwhile, and how fast an offer reaches long-polling devices.
 * Run: `BENCH_ONLY=ota npm run bench` (BENCH_OTA_DEVICES, default 200).
 */
import { fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { freePort } from "../src/platform/db/embedded.js";
import { account, gql, percentile, rssMiB, scratchDatabase, startServer, table, type Row } from "./lib.js";

const DEVICES = Number(process.env.BENCH_OTA_DEVICES ?? 200);
const IMAGE_BYTES = 1_500_000;

function image(version: string): Buffer {
  const bytes = randomBytes(IMAGE_BYTES);
  bytes.fill(0, 0, 112);
  bytes[0] = 0xe9;
  bytes.writeUInt32LE(0xabcd5432, 32); // esp_app_desc_t magic, then the version at 48
  bytes.write(version, 48, "latin1");
  return bytes;
}

/** Every client downloads the whole body at once; aggregate MB/s over the slowest one's end. */
async function downloadAll(url: string, headers: (i: number) => Record<string, string>, count: number): Promise<{ mbps: number; p99: number; errors: number }> {
  const start = performance.now();
  const times: number[] = [];
  let bytes = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { headers: headers(i) });
        const body = new Uint8Array(await res.arrayBuffer());
        if (res.status !== 200 || body.length !== IMAGE_BYTES) errors++;
        bytes += body.length;
      } catch {
        errors++;
      }
      times.push(performance.now() - t0);
    }),
  );
  return { mbps: bytes / 1e6 / ((performance.now() - start) / 1000), p99: percentile(times, 99), errors };
}

export async function otaBench(): Promise<void> {
  const db = await scratchDatabase();
  const server = await startServer(db.url, { OTA_TIMEOUT_MINUTES: "60" });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const token = await account(server.url);
    const owner = (await client.query(`SELECT id FROM users LIMIT 1`)).rows[0].id;
    const devices: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < DEVICES; i++) {
      const deviceToken = randomBytes(32).toString("base64url");
      const hash = createHash("sha256").update(deviceToken).digest("hex");
      const id = (await client.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`, [owner, `ota-${i}`, hash])).rows[0]
        .id;
      await client.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
      devices.push({ id, token: deviceToken });
    }
    const upload = await fetch(`${server.url}/firmware?title=bench&version=2.0.0`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
      body: image("2.0.0"),
    });
    const firmware = (await upload.json()) as { id: string };

    // Offer -> long-polling device: every device holds a poll, then the release is created.
    const polls = devices.map(async (d) => {
      for (;;) {
        const res = await fetch(`${server.url}/telemetry/latest?device_token=${d.token}&wait=25`);
        const body = (await res.json()) as { data: Record<string, unknown> };
        if (body.data.ota) return performance.now();
      }
    });
    await new Promise((r) => setTimeout(r, 1000)); // the polls are held
    const created = performance.now();
    await gql(
      server.url,
      `mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { id } }`,
      { i: { firmwareId: firmware.id, deviceIds: devices.map((d) => d.id), rolloutPercent: 100, maxPerMinute: 100_000, abortFailurePercent: 100 } },
      token,
    );
    const heard = (await Promise.all(polls)).map((t) => t - created);
    const offers: Row = {
      scenario: `createRelease -> offer in ${DEVICES} held long polls`,
      p50: percentile(heard, 50),
      p99: percentile(heard, 99),
      errors: 0,
      note: "includes the rollout job's first tick",
    };

    const barePort = await freePort();
    const bare = fork(new URL("./bare-download.mjs", import.meta.url), { env: { PORT: String(barePort), BYTES: String(IMAGE_BYTES) }, stdio: "inherit" });
    await new Promise((r) => bare.once("message", r));
    const ceiling = await downloadAll(`http://127.0.0.1:${barePort}/`, () => ({}), DEVICES);
    bare.kill();

    const before = await rssMiB(server.child.pid!);
    let peak = before;
    const sampler = setInterval(() => void rssMiB(server.child.pid!).then((m) => (peak = Math.max(peak, m))), 50);
    const ours = await downloadAll(`${server.url}/firmware/update`, (i) => ({ "x-device-token": devices[i]!.token, "x-esp32-version": "1.0.0" }), DEVICES);
    clearInterval(sampler);
    const rows: Row[] = [
      {
        scenario: `bare node:http, ${DEVICES} x 1.5 MB from memory (ceiling)`,
        rps: ceiling.mbps,
        p99: ceiling.p99,
        errors: ceiling.errors,
        note: "MB/s in the req/s column",
      },
      {
        scenario: `GET /firmware/update, ${DEVICES} devices at once`,
        rps: ours.mbps,
        p99: ours.p99,
        errors: ours.errors,
        note: `${((ours.mbps / ceiling.mbps) * 100).toFixed(0)}% of the ceiling; server RSS ${before.toFixed(0)} -> peak ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)})`,
      },
      offers,
    ];
    table("Over-the-air updates", rows);
  } finally {
    await client.end();
    await server.stop();
    await db.drop();
  }
}

await otaBench();
