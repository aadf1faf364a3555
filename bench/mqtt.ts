/**
 * Issue 13's table: MQTT QoS 1 telemetry beside V2 HTTP ingest and a bare MQTT endpoint (the
 * ceiling), all measured in this run; command latency to an MQTT device, through one process and
 * through two; 10,000 idle MQTT devices (memory per connection, HTTP ingest with them open).
 */
import { fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import type autocannon from "autocannon";
import mqttPacket from "mqtt-packet";
import pg from "pg";
import { freePort } from "../src/platform/db/embedded.js";
import { gql, load, percentile, redisUrl, rssMiB, scratchDatabase, seconds, startServer, table, type Row } from "./lib.js";
import { openDevice, publishLoad, type LoadDevice } from "./mqtt-load.js";

const loadDevices = Number(process.env.BENCH_MQTT_DEVICES ?? 200);
const idleCount = Number(process.env.BENCH_IDLE_SOCKETS ?? 10_000);

async function insertDevices(client: pg.Client, owner: string, count: number): Promise<LoadDevice[]> {
  const devices: LoadDevice[] = [];
  for (let start = 0; start < count; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - start) }, () => randomBytes(32).toString("base64url"));
    const hashes = batch.map((t) => createHash("sha256").update(t).digest("hex"));
    await client.query(
      `WITH d AS (INSERT INTO devices (owner_id, name, token_hash) SELECT $1, 'bench', h FROM unnest($2::text[]) WITH ORDINALITY AS x(h, i) ORDER BY i RETURNING id, token_hash)
       INSERT INTO device_state (device_id) SELECT id FROM d RETURNING device_id AS id`,
      [owner, hashes],
    );
    const byHash = new Map(
      (await client.query<{ id: string; token_hash: string }>(`SELECT id, token_hash FROM devices WHERE token_hash = ANY($1)`, [hashes])).rows.map((r) => [
        r.token_hash,
        r.id,
      ]),
    );
    batch.forEach((token, i) => devices.push({ id: byHash.get(hashes[i]!)!, token }));
  }
  return devices;
}

/** setDeviceState through `apiUrl`, timed until the state message reaches a device on `mqttPort`. */
async function commandLatency(apiUrl: string, mqttPort: number, accessToken: string, device: LoadDevice, samples = 200): Promise<number[]> {
  const { socket, parser } = await openDevice(mqttPort, device);
  let waiting: (() => void) | undefined;
  parser.on("packet", (packet) => {
    if (packet.cmd !== "publish") return;
    if (packet.qos === 1) socket.write(mqttPacket.generate({ cmd: "puback", messageId: packet.messageId }));
    waiting?.();
  });
  const subscribed = new Promise<void>((resolve) => (waiting = resolve));
  socket.write(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: `thingsnxt/device/${device.id}/state`, qos: 1 }] }));
  await subscribed; // the state on subscription
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const arrived = new Promise<void>((resolve) => (waiting = resolve));
    const started = performance.now();
    await gql(
      apiUrl,
      `mutation ($id: ID!, $v: Int!) { setDeviceState(deviceId: $id, desired: { v0: $v }) { version } }`,
      { id: device.id, v: i & 1 },
      accessToken,
    );
    await arrived;
    latencies.push(performance.now() - started);
  }
  socket.destroy();
  return latencies;
}

export async function mqttBench(): Promise<void> {
  const db = await scratchDatabase();
  const mqttPort = await freePort();
  const server = await startServer(db.url, { MQTT_PORT: String(mqttPort), REDIS_URL: redisUrl });
  const secondMqtt = await freePort();
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const owner = (await client.query(`INSERT INTO users (email, username) VALUES ('bench@example.com', 'bench') RETURNING id`)).rows[0].id as string;
    const devices = await insertDevices(client, owner, loadDevices);
    let next = 0;
    const v2: autocannon.Request = {
      method: "POST",
      setupRequest: (req) => {
        const d = devices[next++ % devices.length]!;
        const data = `{"v0":${next & 1},"v1":0,"temperature":${20 + (next % 100) / 10},"humidity":55,"timestamp":${next}}`;
        return {
          ...req,
          path: `/devices/${d.id}/telemetry`,
          headers: { "content-type": "application/json" },
          body: `{"device_token":"${d.token}","data":${data}}`,
        };
      },
    };

    const barePort = await freePort();
    const bare = fork(new URL("./bare-mqtt.mjs", import.meta.url), { env: { PORT: String(barePort) }, stdio: "inherit" });
    await new Promise((r) => bare.once("message", r));
    const rows: Row[] = [];
    rows.push(await publishLoad(`bare MQTT endpoint, PUBACK at once (ceiling, ${loadDevices} devices)`, barePort, devices, seconds));
    bare.kill();
    await load("warm-up", server.url, [v2], 100, 3).catch(() => undefined);
    const http = await load(`V2 POST /devices/{id}/telemetry (5 keys, ${loadDevices} devices, 100 connections)`, server.url, [v2]);
    rows.push(http);
    const before = (await client.query(`SELECT count(*)::int AS n FROM telemetry`)).rows[0].n as number;
    const mqttRow = await publishLoad(
      `MQTT QoS 1 telemetry, PUBACK after commit (5 keys, ${loadDevices} devices, 8 in flight each)`,
      mqttPort,
      devices,
      seconds,
    );
    const stored = ((await client.query(`SELECT count(*)::int AS n FROM telemetry`)).rows[0].n as number) - before;
    mqttRow.note = `${((mqttRow.rps! / http.rps!) * 1).toFixed(2)}× V2 HTTP; ${stored.toLocaleString("en-US")} history rows committed`;
    rows.push(mqttRow);
    table("MQTT telemetry (ratio to the bare MQTT endpoint)", rows, rows[0]!.rps);

    // Commands: one process, then through a second one sharing PostgreSQL and Redis.
    const token = (
      await gql<{ register: { accessToken: string } }>(server.url, `mutation ($i: RegisterInput!) { register(input: $i) { accessToken } }`, {
        i: { email: "cmd@example.com", username: "cmdbench", password: "Bench-Passw0rd" },
      })
    ).register.accessToken;
    const mine = await gql<{ createDevice: { token: string; device: { id: string } } }>(
      server.url,
      `mutation { createDevice(input: { name: "cmd" }) { token device { id } } }`,
      {},
      token,
    );
    const target = { id: mine.createDevice.device.id, token: mine.createDevice.token };
    const one = await commandLatency(server.url, mqttPort, token, target);
    second = await startServer(db.url, { MQTT_PORT: String(secondMqtt), REDIS_URL: redisUrl });
    const two = await commandLatency(server.url, secondMqtt, token, target);
    table("Command to an MQTT device (setDeviceState over HTTP until the state message arrives)", [
      { scenario: "one process", p50: percentile(one, 50), p99: percentile(one, 99), note: `${one.length} commands in a row` },
      {
        scenario: "API on process A, device on process B (Redis bus)",
        p50: percentile(two, 50),
        p99: percentile(two, 99),
        note: `${two.length} commands in a row`,
      },
    ]);
    await second.stop();
    second = undefined;

    // Idle devices: memory per connection, and HTTP ingest with them held open.
    const idle = await insertDevices(client, owner, idleCount);
    const rssBefore = await rssMiB(server.child.pid!);
    const links = [];
    for (let i = 0; i < idle.length; i += 500) links.push(...(await Promise.all(idle.slice(i, i + 500).map((d) => openDevice(mqttPort, d, 300)))));
    await new Promise((r) => setTimeout(r, 3000));
    const rssAfter = await rssMiB(server.child.pid!);
    const withIdle = await load(`V2 ingest with ${idleCount.toLocaleString("en-US")} idle MQTT devices connected`, server.url, [v2]);
    withIdle.note = `${((withIdle.rps! / http.rps!) * 100).toFixed(0)}% of without`;
    table("Idle MQTT devices", [
      {
        scenario: `server resident memory, ${idleCount.toLocaleString("en-US")} MQTT devices connected`,
        note: `${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB: ${(((rssAfter - rssBefore) * 1024) / idleCount).toFixed(1)} KiB per connection`,
      },
      http,
      withIdle,
    ]);
    for (const { socket } of links) socket.destroy();
  } finally {
    await client.end();
    await second?.stop();
    await server.stop();
    await db.drop();
  }
}
