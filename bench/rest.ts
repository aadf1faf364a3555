/** Issue 2's table: the firmware endpoints beside a bare node:http ceiling measured in the same run. */
import { fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import type autocannon from "autocannon";
import pg from "pg";
import { freePort } from "../src/platform/db/embedded.js";
import { load, scratchDatabase, startServer, table, type Row } from "./lib.js";

const deviceCount = Number(process.env.BENCH_DEVICES ?? 500);

export async function restBench(): Promise<void> {
  const db = await scratchDatabase();
  const server = await startServer(db.url);
  try {
    // Devices straight into the database: one user, `deviceCount` devices with known tokens.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const owner = (await client.query(`INSERT INTO users (email, username) VALUES ('bench@example.com', 'bench') RETURNING id`)).rows[0].id;
    const devices: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < deviceCount; i++) {
      const token = randomBytes(32).toString("base64url");
      const hash = createHash("sha256").update(token).digest("hex");
      const id = (await client.query(`INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id`, [owner, `bench-${i}`, hash])).rows[0]
        .id;
      await client.query(`INSERT INTO device_state (device_id) VALUES ($1)`, [id]);
      devices.push({ id, token });
    }
    let next = 0;
    const pick = () => devices[next++ % devices.length]!;
    const report = () => JSON.stringify({ v0: next & 1, v1: 0, temperature: 20 + (next % 100) / 10, humidity: 55, timestamp: next });
    const post = (path: (d: { id: string }) => string): autocannon.Request => ({
      method: "POST",
      setupRequest: (req) => {
        const d = pick();
        return { ...req, path: path(d), headers: { "content-type": "application/json" }, body: `{"device_token":"${d.token}","data":${report()}}` };
      },
    });
    const poll: autocannon.Request = { method: "GET", setupRequest: (req) => ({ ...req, path: `/telemetry/latest?device_token=${pick().token}` }) };

    const barePort = await freePort();
    const bare = fork(new URL("./bare-server.mjs", import.meta.url), { env: { PORT: String(barePort) }, stdio: "inherit" });
    await new Promise((r) => bare.once("message", r));
    const rows: Row[] = [];
    rows.push(await load("bare node:http, fixed JSON (ceiling)", `http://127.0.0.1:${barePort}`, [{ method: "GET", path: "/" }]));
    bare.kill();
    await load("warm-up", server.url, [poll], 100, 3).catch(() => undefined); // caches warm, as in production
    rows.push(await load(`V2 POST /devices/{id}/telemetry (5 keys, ${deviceCount} devices)`, server.url, [post((d) => `/devices/${d.id}/telemetry`)]));
    rows.push(await load(`legacy POST /telemetry (5 keys, ${deviceCount} devices)`, server.url, [post(() => "/telemetry")]));
    rows.push(await load(`poll GET /telemetry/latest (${deviceCount} devices)`, server.url, [poll]));
    const stored = (await client.query(`SELECT count(*)::int AS n FROM telemetry`)).rows[0].n;
    await client.end();
    rows[1]!.note = `${stored.toLocaleString("en-US")} history rows committed in the run`;
    table("Firmware endpoints (100 connections)", rows, rows[0]!.rps);
  } finally {
    await server.stop();
    await db.drop();
  }
}
