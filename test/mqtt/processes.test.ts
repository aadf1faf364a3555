import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/platform/db/embedded.js";
import { eventually } from "../helpers/fixture.js";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, pg, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { subscribe } from "../helpers/ws.js";
import { connectDevice, inbox } from "./helpers.js";

/**
 * Two real server processes sharing PostgreSQL and Redis: A in this process, B started as
 * `src/main.ts` (what `npm start` runs), with its own MQTT endpoint. Devices connect to B with real
 * clients (mqtt.js, and Mosquitto's own mosquitto_pub/mosquitto_sub).
 */
const run = promisify(execFile);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const hasMosquittoClients = existsSync("/usr/bin/mosquitto_pub") && existsSync("/usr/bin/mosquitto_sub");
let a: TestServer;
let b: ChildProcess;
let bUrl: string;
let bMqtt: number;
let user: Account;
const topic = (id: string, leaf: string) => `thingsnxt/device/${id}/${leaf}`;

beforeAll(async () => {
  a = await startTestServer({ REDIS_URL: redisUrl, RATE_LIMIT_MAX: "100000", MQTT_PORT: "0" });
  const port = await freePort();
  bMqtt = await freePort();
  bUrl = `http://127.0.0.1:${port}`;
  b = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: a.databaseUrl,
      REDIS_URL: redisUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      MQTT_PORT: String(bMqtt),
      LOG_LEVEL: "fatal", // the database cut below makes B's job queue complain, as it should
      RATE_LIMIT_MAX: "100000",
      GRAPHQL_RATE_LIMIT_FACTOR: "1000",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`${bUrl}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await sleep(100);
  }
  user = await signUp(a.url);
}, 60_000);

afterAll(async () => {
  b.kill("SIGTERM");
  await new Promise((r) => (b.exitCode !== null ? r(null) : b.once("exit", r)));
  await a.stop();
});

describe("two processes", () => {
  it("a widget switch given through A reaches a device connected to B, in milliseconds", async () => {
    const device = await addDevice(a.url, user, "on-b");
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${bMqtt}`, { username: device.token, reconnectPeriod: 0 });
    const box = inbox(client);
    await client.subscribeAsync(topic(device.id, "#"), { qos: 1 });
    await box.next(topic(device.id, "state"));
    const started = Date.now();
    const set = await gql(a.url, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: device.id }, user.accessToken);
    expect(set.errors).toBeUndefined();
    const command = await box.next(topic(device.id, "commands"));
    expect(command.body).toMatchObject({ type: "led", state: 1, virtual_pin: "v0" });
    expect(Date.now() - started).toBeLessThan(2000); // a generous bound: the bench measures the latency
    // And a report over MQTT on B is seen by a subscriber on A.
    const live = await subscribe(a.url, user.accessToken, `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { data } }`, { id: device.id });
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { v0: 1, t: 3 } }), { qos: 1 });
    expect((await live.next()).telemetryUpdated.data).toEqual({ v0: 1, t: 3 });
    await live.dispose();
    await client.endAsync();
  });

  it.skipIf(!hasMosquittoClients)(
    "mosquitto_pub reports to B; mosquitto_sub receives a switch given through A (skipped without mosquitto-clients)",
    async () => {
      const device = await addDevice(a.url, user, "mosquitto-clients");
      await run("mosquitto_pub", [
        "-h",
        "127.0.0.1",
        "-p",
        String(bMqtt),
        "-u",
        device.token,
        "-q",
        "1",
        "-t",
        topic(device.id, "telemetry"),
        "-m",
        '{"data":{"t":19.5}}',
      ]);
      const latest = await http(a.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}`);
      expect(latest.body.data).toEqual({ t: 19.5 });
      // -C 2: the state on subscription, then the one after the switch.
      const sub = run("mosquitto_sub", [
        "-h",
        "127.0.0.1",
        "-p",
        String(bMqtt),
        "-u",
        device.id,
        "-P",
        device.token,
        "-q",
        "1",
        "-t",
        topic(device.id, "state"),
        "-C",
        "2",
        "-W",
        "10",
      ]);
      await sleep(500);
      await gql(a.url, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: device.id }, user.accessToken);
      const { stdout } = await sub;
      const [first, second] = stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(first).toEqual({ device_id: device.id, data: { t: 19.5 }, timestamp: latest.body.timestamp });
      expect(second.data).toEqual({ t: 19.5, v0: 1 });
      // A wrong token is refused at CONNECT.
      const refused = await run("mosquitto_pub", [
        "-h",
        "127.0.0.1",
        "-p",
        String(bMqtt),
        "-u",
        "wrong",
        "-t",
        topic(device.id, "telemetry"),
        "-m",
        "{}",
      ]).catch((error: { code: number; stderr: string }) => error);
      expect(refused).toMatchObject({ code: expect.any(Number) });
      expect((refused as { stderr: string }).stderr).toMatch(/not authori[sz]ed|bad user ?name or password/i);
    },
  );
});

describe("the database cut off", () => {
  it("no PUBACK while reports cannot be committed; the device sends them again and nothing is lost", async () => {
    const device = await addDevice(a.url, user, "db-cut");
    const client = await connectDevice(a, { username: device.token, protocolVersion: 5, reconnectPeriod: 200 });
    await client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { n: 0 } }), { qos: 1 });
    const dbName = new URL(a.databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: a.databaseUrl.replace(`/${dbName}`, "/postgres") });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);
      let acked = false;
      const during = client.publishAsync(topic(device.id, "telemetry"), JSON.stringify({ data: { n: 1 } }), { qos: 1 }).then(() => (acked = true));
      await sleep(1500);
      expect(acked).toBe(false); // not committed, not acknowledged
      expect((await fetch(`${a.url}/health/live`)).status).toBe(200); // the process is up
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      await during; // resent after the reconnect, then acknowledged
      const { rows } = await a.services.pool.query<{ num: number }>(`SELECT num FROM telemetry WHERE device_id = $1 AND key = 'n' ORDER BY num`, [device.id]);
      expect([...new Set(rows.map((r) => r.num))]).toEqual([0, 1]);
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      await admin.end();
      client.end(true);
    }
  }, 30_000);
});

it("the device shows its MQTT connection in GraphQL", async () => {
  const device = await addDevice(a.url, user, "conn");
  const client = await connectDevice(a, { username: device.token });
  const seen = await eventually("connection", async () => {
    const r = await gql(a.url, `query ($id: ID!) { device(id: $id) { connection { transport connected } } }`, { id: device.id }, user.accessToken);
    return r.data.device.connection.connected && r.data.device.connection;
  });
  expect(seen).toEqual({ transport: "MQTT", connected: true });
  await client.endAsync();
});
