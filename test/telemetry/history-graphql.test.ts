import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, ISO_RE, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let base: string;
let alice: Account;
let bob: Account;
let device: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  base = server.url;
  alice = await signUp(base);
  bob = await signUp(base);
  device = await addDevice(base, alice);
  // A morning of one device, at chosen times that straddle minute, hour and day boundaries.
  const info = (await server.services.directory.findById(device.id))!;
  const reports: Array<[string, number, boolean]> = [
    ["2026-03-01T10:00:30.000Z", 1, false],
    ["2026-03-01T10:00:59.999Z", 3, true],
    ["2026-03-01T10:01:00.000Z", 10, true],
    ["2026-03-01T10:59:59.000Z", 20, false],
    ["2026-03-01T11:00:00.000Z", 30, true],
    ["2026-03-02T00:00:00.000Z", 50, true],
  ];
  for (const [at, temp, on] of reports) await server.services.state.report(info, { temp, on, mode: temp > 15 ? "hot" : "cold" }, Date.parse(at));
});
afterAll(() => server.stop());

const Q = `query ($d: ID!, $k: String!, $from: DateTime, $to: DateTime, $bucket: String, $aggregate: Aggregate, $first: Int) {
  telemetryHistory(deviceId: $d, key: $k, from: $from, to: $to, bucket: $bucket, aggregate: $aggregate, first: $first) { ts value min max avg count } }`;
const DAY = { from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z" };
const history = (vars: Record<string, unknown>, a: Account = alice) => gql(base, Q, { d: device.id, k: "temp", ...DAY, ...vars }, a.accessToken);
const raw = (ts: string, value: unknown) => ({ ts, value, min: null, max: null, avg: null, count: null });

describe("raw points", () => {
  it("returns values oldest first with null aggregates, the newest `first` when limited", async () => {
    const res = await history({});
    expect(res.data.telemetryHistory).toEqual([
      raw("2026-03-01T10:00:30.000Z", 1),
      raw("2026-03-01T10:00:59.999Z", 3),
      raw("2026-03-01T10:01:00.000Z", 10),
      raw("2026-03-01T10:59:59.000Z", 20),
      raw("2026-03-01T11:00:00.000Z", 30),
      raw("2026-03-02T00:00:00.000Z", 50),
    ]);
    expect((await history({ first: 2 })).data.telemetryHistory.map((p: any) => p.value)).toEqual([30, 50]);
    // Half-open range: the point at `to` is outside.
    expect((await history({ to: "2026-03-01T11:00:00Z" })).data.telemetryHistory.map((p: any) => p.value)).toEqual([1, 3, 10, 20]);
    expect((await history({ k: "mode", first: 1 })).data.telemetryHistory).toEqual([raw("2026-03-02T00:00:00.000Z", "hot")]);
    expect((await history({ k: "on", first: 2 })).data.telemetryHistory.map((p: any) => p.value)).toEqual([true, true]);
    expect((await history({ k: "no-such-key" })).data.telemetryHistory).toEqual([]);
  });

  it("shows reports posted by firmware, over the last 24 h by default", async () => {
    const d = await addDevice(base, alice);
    for (const data of [
      { temperature: 21.5, label: "a" },
      { temperature: 22, label: { nested: [1, 2] } },
    ]) {
      expect((await http(base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data } })).status).toBe(200);
    }
    const temps = await gql(base, Q, { d: d.id, k: "temperature" }, alice.accessToken);
    expect(temps.data.telemetryHistory).toEqual([raw(expect.stringMatching(ISO_RE), 21.5), raw(expect.stringMatching(ISO_RE), 22)]);
    const labels = await gql(base, Q, { d: d.id, k: "label" }, alice.accessToken);
    expect(labels.data.telemetryHistory.map((p: any) => p.value)).toEqual(["a", { nested: [1, 2] }]);
    const bucketed = await gql(base, Q, { d: d.id, k: "temperature", bucket: "1d" }, alice.accessToken);
    expect(bucketed.data.telemetryHistory).toEqual([{ ts: expect.stringMatching(/T00:00:00\.000Z$/), value: 21.75, min: 21.5, max: 22, avg: 21.75, count: 2 }]);
  });
});

describe("buckets", () => {
  it("1m and 1h buckets aligned to UTC with every statistic; value is AVG by default", async () => {
    const minutes = await history({ bucket: "1m", to: "2026-03-01T11:30:00Z" });
    expect(minutes.data.telemetryHistory).toEqual([
      { ts: "2026-03-01T10:00:00.000Z", value: 2, min: 1, max: 3, avg: 2, count: 2 },
      { ts: "2026-03-01T10:01:00.000Z", value: 10, min: 10, max: 10, avg: 10, count: 1 },
      { ts: "2026-03-01T10:59:00.000Z", value: 20, min: 20, max: 20, avg: 20, count: 1 },
      { ts: "2026-03-01T11:00:00.000Z", value: 30, min: 30, max: 30, avg: 30, count: 1 },
    ]);
    const hours = await history({ bucket: "1h" });
    expect(hours.data.telemetryHistory).toEqual([
      { ts: "2026-03-01T10:00:00.000Z", value: 8.5, min: 1, max: 20, avg: 8.5, count: 4 },
      { ts: "2026-03-01T11:00:00.000Z", value: 30, min: 30, max: 30, avg: 30, count: 1 },
      { ts: "2026-03-02T00:00:00.000Z", value: 50, min: 50, max: 50, avg: 50, count: 1 },
    ]);
  });

  it.each([
    ["MIN", [1, 30, 50]],
    ["MAX", [20, 30, 50]],
    ["COUNT", [4, 1, 1]],
    ["AVG", [8.5, 30, 50]],
  ])("aggregate %s becomes the value", async (aggregate, values) => {
    const res = await history({ bucket: "1h", aggregate });
    expect(res.data.telemetryHistory.map((p: any) => p.value)).toEqual(values);
  });

  it("first keeps the newest buckets; booleans aggregate as 0/1", async () => {
    expect((await history({ bucket: "1h", first: 1 })).data.telemetryHistory).toEqual([
      { ts: "2026-03-02T00:00:00.000Z", value: 50, min: 50, max: 50, avg: 50, count: 1 },
    ]);
    const duty = await history({ k: "on", bucket: "1d" });
    expect(duty.data.telemetryHistory).toEqual([
      { ts: "2026-03-01T00:00:00.000Z", value: 0.6, min: 0, max: 1, avg: 0.6, count: 5 },
      { ts: "2026-03-02T00:00:00.000Z", value: 1, min: 1, max: 1, avg: 1, count: 1 },
    ]);
  });

  it("a large history is not refused as too expensive", async () => {
    expect((await history({ first: 10_000 })).data.telemetryHistory).toHaveLength(6);
  });
});

describe("refusals", () => {
  const refused = async (vars: Record<string, unknown>, message: string | RegExp) => {
    const res = await history(vars);
    expect(res.data ?? null).toBeNull(); // absent when the variables do not even coerce
    expect(res.errors![0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
  };

  it("buckets over a key holding non-numbers", () =>
    refused({ k: "mode", bucket: "1h" }, 'key "mode" holds values that are not numbers; ask for raw points instead of buckets'));
  it("an aggregate without a bucket", () => refused({ aggregate: "MAX" }, "aggregate needs a bucket, such as 1m or 1h"));
  it("a malformed bucket", () => refused({ bucket: "5 minutes" }, 'bucket must be a width such as 30s, 1m, 15m, 1h, 1d or 1w, got "5 minutes"'));
  it("too many buckets", () => refused({ bucket: "1s" }, /more than 10000 buckets/));
  it("from not before to", () => refused({ from: DAY.to, to: DAY.from }, "from must be before to"));
  it("first out of range", () => refused({ first: 0 }, "first must be between 1 and 10000"));
  it("a time without a zone", () => refused({ from: "2026-03-01T00:00:00" }, /DateTime must be an ISO 8601 time with a zone/));

  it("another user's, an unknown or a malformed device is NOT_FOUND, before any other argument is looked at", async () => {
    for (const d of [device.id, crypto.randomUUID(), "not-a-uuid"]) {
      for (const vars of [{}, { aggregate: "MAX" }, { bucket: "nonsense" }, { k: "mode", bucket: "1h" }, { from: DAY.to, to: DAY.from }]) {
        const res = await history({ d, ...vars }, bob);
        expect(res.errors![0]).toMatchObject({ message: "Device not found", extensions: { code: "NOT_FOUND" } });
      }
    }
  });

  it("needs a token", async () => {
    expect(codeOf(await gql(base, Q, { d: device.id, k: "temp" }))).toBe("UNAUTHENTICATED");
  });
});
