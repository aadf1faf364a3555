import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { addDevice, gql } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";
import { connectDevice } from "../mqtt/helpers.js";

/** Device timestamps and backfill: the points' own times, newest-wins per key, all-or-nothing batches. */
const t = useTestServer({ MQTT_PORT: "0", MAX_BATCH_RECORDS: "50", MAX_POINTS_PER_DAY: "400", RATE_LIMIT_MAX: "100000" });
let device: { id: string; token: string };
const MIN = 60_000;

const report = (body: Record<string, unknown>, id = device.id) =>
  http(t.base, "POST", `/devices/${id}/telemetry`, { body: { device_token: device.token, ...body } });
const batch = (records: unknown, id = device.id, token = device.token) =>
  http(t.base, "POST", `/devices/${id}/telemetry/batch`, { body: { device_token: token, records } });
const HISTORY = `query ($d: ID!, $k: String!, $from: DateTime) { telemetryHistory(deviceId: $d, key: $k, from: $from) { ts value } }`;
const history = async (key: string, d = device.id) =>
  (await gql(t.base, HISTORY, { d, k: key, from: new Date(Date.now() - 3 * 86_400_000).toISOString() }, t.alice.accessToken)).data.telemetryHistory as Array<{
    ts: string;
    value: unknown;
  }>;
const latest = async () => (await http(t.base, "GET", `/telemetry/latest?device_token=${device.token}`)).body.data;
const historyRows = async (deviceId: string) =>
  Number((await t.server.services.pool.query(`SELECT count(*) AS n FROM telemetry WHERE device_id = $1`, [deviceId])).rows[0].n);

beforeAll(async () => {
  device = await addDevice(t.base, t.alice, "buffering-board");
});

describe("device timestamps on a report", () => {
  it("stores the point at the device's time, as epoch ms or ISO 8601 with a zone", async () => {
    const at = Date.now() - 10 * MIN;
    expect((await report({ data: { temp: 20 }, ts: at })).status).toBe(200);
    expect((await report({ data: { hum: 40 }, ts: new Date(at + MIN).toISOString().replace("Z", "+00:00") })).status).toBe(200);
    expect(await history("temp")).toEqual([{ ts: new Date(at).toISOString(), value: 20 }]);
    expect((await history("hum"))[0]!.ts).toBe(new Date(at + MIN).toISOString());
  });

  it("a late point goes to history without replacing a newer reported value", async () => {
    const now = Date.now();
    expect((await report({ data: { level: 7 }, ts: now - MIN })).status).toBe(200);
    const late = await report({ data: { level: 3 }, ts: now - 5 * MIN });
    expect(late.status).toBe(200);
    expect(late.body.data.level).toBe(7);
    expect((await latest()).level).toBe(7);
    expect((await history("level")).map((p) => p.value)).toEqual([3, 7]);
    // Without ts the server's time is the point's, as always: newer than both.
    expect((await report({ data: { level: 9 } })).body.data.level).toBe(9);
  });

  it("refuses times in the future, past retention, without a zone or impossible, storing nothing", async () => {
    const before = await historyRows(device.id);
    for (const [ts, message] of [
      [Date.now() + 10 * MIN, /more than 5 minutes in the future/],
      [Date.now() - 91 * 86_400_000, /older than the 90 days raw history is kept/],
      ["2026-12-01T10:00:00", /ISO 8601 time with a zone/],
      ["2027-02-30T10:00:00Z", /not a valid time/],
      [-5, /epoch milliseconds/],
      [{ at: 1 }, /epoch milliseconds or an ISO 8601/],
    ] as const) {
      const res = await report({ data: { temp: 1 }, ts });
      expect(res.status, JSON.stringify(ts)).toBe(400);
      expect(res.body.detail).toMatch(message);
    }
    expect(await historyRows(device.id)).toBe(before);
  });
});

describe("POST /devices/{id}/telemetry/batch", () => {
  it("stores every buffered record at its time and answers the merged state with the count", async () => {
    const d = await addDevice(t.base, t.alice, "offline-hour");
    const start = Date.now() - 60 * MIN;
    const records = Array.from({ length: 12 }, (_, i) => ({ ts: start + i * 5 * MIN, data: { t: i, on: i % 2 === 0 } }));
    const res = await batch(records.reverse(), d.id, d.token); // any order: they apply in time order
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: "ok", device_id: d.id, accepted: 12, data: { t: 11, on: false } });
    const points = await history("t", d.id);
    expect(points.map((p) => p.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(points[0]!.ts).toBe(new Date(start).toISOString());
  });

  it("is all or nothing: one bad record is named by its index and nothing is stored", async () => {
    const d = await addDevice(t.base, t.alice, "half-bad");
    const good = { ts: Date.now() - MIN, data: { t: 1 } };
    for (const [bad, message] of [
      [{ ts: Date.now() + 60 * MIN, data: { t: 2 } }, /records\[1\]\.ts is more than 5 minutes in the future/],
      [{ ts: Date.now() - 100 * 86_400_000, data: { t: 2 } }, /records\[1\]\.ts is older than/],
      [{ data: { t: 2 } }, /records\[1\]\.ts is missing/],
      [{ ts: Date.now(), data: { "bad key": 1 } }, /records\[1\]: key "bad key" is not acceptable/],
      [{ ts: Date.now(), data: [1] }, /records\[1\]\.data must be a JSON object/],
      ["text", /records\[1\] must be an object/],
    ] as const) {
      const res = await batch([good, bad], d.id, d.token);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.detail).toMatch(message);
    }
    expect(await historyRows(d.id)).toBe(0);
    expect((await batch([], d.id, d.token)).body.detail).toMatch(/records is empty/);
    expect((await batch({ ts: 1 }, d.id, d.token)).body.detail).toMatch(/records must be an array/);
    const tooMany = Array.from({ length: 51 }, () => good);
    expect((await batch(tooMany, d.id, d.token)).body.detail).toMatch(/at most 50 are accepted per batch \(MAX_BATCH_RECORDS\)/);
  });

  it("checks the device and token as the V2 report does", async () => {
    const d = await addDevice(t.base, t.alice, "other");
    const rec = [{ ts: Date.now(), data: { t: 1 } }];
    expect((await batch(rec, d.id, device.token)).status).toBe(403);
    expect((await batch(rec, "00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await batch(rec, "nope")).status).toBe(400);
    const bob = await addDevice(t.base, t.bob, "bobs");
    expect((await batch(rec, bob.id)).status).toBe(403);
    expect(await historyRows(bob.id)).toBe(0);
  });

  it("counts points per device and UTC day: past MAX_POINTS_PER_DAY a batch is refused whole with 429", async () => {
    const d = await addDevice(t.base, t.alice, "chatty");
    const records = (n: number) => Array.from({ length: n }, (_, i) => ({ ts: Date.now() - i * 1000, data: { a: i, b: i, c: i, d: i } }));
    expect((await batch(records(50), d.id, d.token)).status).toBe(200); // 200 points
    expect((await batch(records(45), d.id, d.token)).status).toBe(200); // 380
    const over = await batch(records(10), d.id, d.token); // 420 > 400
    expect(over.status).toBe(429);
    expect(over.body.detail).toMatch(/MAX_POINTS_PER_DAY/);
    expect(await historyRows(d.id)).toBe(380);
    expect((await http(t.base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { a: 1, b: 2, c: 3, d: 4, e: 5 } } })).status).toBe(
      200,
    );
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])); // 385 + 16 > 400
    expect((await http(t.base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: sixteen } })).status).toBe(429);
    expect(await historyRows(d.id)).toBe(385);
  });
});

describe("over MQTT", () => {
  let client: Awaited<ReturnType<typeof connectDevice>> | undefined;
  afterAll(() => client?.end(true));

  it("takes ts in a report and backfill batches on .../telemetry/batch, acknowledged after commit", async () => {
    const d = await addDevice(t.base, t.alice, "mqtt-buffer");
    client = await connectDevice(t.server, { username: d.id, password: d.token, protocolVersion: 5 });
    const at = Date.now() - 30 * MIN;
    await client.publishAsync(`thingsnxt/device/${d.id}/telemetry`, JSON.stringify({ data: { x: 5 }, ts: at }), { qos: 1 });
    const records = [1, 2, 3].map((i) => ({ ts: at - i * MIN, data: { x: i } }));
    await client.publishAsync(`thingsnxt/device/${d.id}/telemetry/batch`, JSON.stringify({ records }), { qos: 1 });
    const points = await eventually("four points", async () => {
      const p = await history("x", d.id);
      return p.length === 4 && p;
    });
    expect(points.map((p) => p.value)).toEqual([3, 2, 1, 5]);
    expect(points[3]!.ts).toBe(new Date(at).toISOString());
    // The older batch did not replace the reported value.
    expect((await http(t.base, "GET", `/telemetry/latest?device_token=${d.token}`)).body.data.x).toBe(5);
    // A bad record: MQTT 5 refuses it in the PUBACK, nothing is stored.
    const refused = client.publishAsync(`thingsnxt/device/${d.id}/telemetry/batch`, JSON.stringify({ records: [{ ts: "yesterday", data: { x: 9 } }] }), {
      qos: 1,
    });
    await expect(refused).rejects.toMatchObject({ code: 0x99 });
    expect((await history("x", d.id)).length).toBe(4);
  });
});
