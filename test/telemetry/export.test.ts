import { describe, expect, it } from "vitest";
import { useTestServer } from "../helpers/fixture.js";
import { addDevice, codeOf, gql } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";

/** GET /export/telemetry.csv and telemetryKeys: what leaves the server, and only to the owner. */
const t = useTestServer({ RATE_LIMIT_MAX: "100000" });
const csv = (query: string, token = t.alice.accessToken) =>
  http(t.base, "GET", `/export/telemetry.csv?${query}`, { headers: { authorization: `Bearer ${token}` } });

async function seeded() {
  const d = await addDevice(t.base, t.alice, "exported");
  const info = (await t.server.services.directory.findById(d.id))!;
  await t.server.services.state.reportRecords(
    info,
    [
      { ts: Date.parse("2026-11-30T22:30:00Z"), data: { temp: 20.5, note: 'a "quoted", comma' } },
      { ts: Date.parse("2026-11-30T23:30:00Z"), data: { temp: 21.5, note: "line\nbreak" } },
      { ts: Date.parse("2026-12-01T00:30:00Z"), data: { temp: 22, cfg: { a: [1, 2] }, on: true } },
    ],
    Date.now(),
  );
  return d;
}

describe("GET /export/telemetry.csv", () => {
  it("streams raw points as RFC 4180 CSV, key by key in time order, times in the zone asked for", async () => {
    const d = await seeded();
    const res = await csv(`deviceId=${d.id}&from=2026-11-30T00:00:00Z&to=2026-12-02T00:00:00Z&timeZone=Europe/Berlin`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="telemetry-${d.id}.csv"`);
    expect(res.text).toBe(
      [
        "time,key,value",
        '2026-12-01T01:30:00.000+01:00,cfg,"{""a"":[1,2]}"',
        '2026-11-30T23:30:00.000+01:00,note,"a ""quoted"", comma"',
        '2026-12-01T00:30:00.000+01:00,note,"line\nbreak"',
        "2026-12-01T01:30:00.000+01:00,on,true",
        "2026-11-30T23:30:00.000+01:00,temp,20.5",
        "2026-12-01T00:30:00.000+01:00,temp,21.5",
        "2026-12-01T01:30:00.000+01:00,temp,22",
        "",
      ].join("\r\n"),
    );
    const some = await csv(`deviceId=${d.id}&keys=temp&from=2026-11-30T23:00:00Z`);
    expect(some.text).toBe("time,key,value\r\n2026-11-30T23:30:00.000+00:00,temp,21.5\r\n2026-12-01T00:30:00.000+00:00,temp,22\r\n");
  });

  it("buckets in the zone: a local day, with count, avg, min, max and sum", async () => {
    const d = await seeded();
    const res = await csv(`deviceId=${d.id}&keys=temp&bucket=1d&from=2026-11-29T00:00:00Z&to=2026-12-03T00:00:00Z&timeZone=Europe/Berlin`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      "time,key,count,avg,min,max,sum\r\n2026-11-30T00:00:00.000+01:00,temp,1,20.5,20.5,20.5,20.5\r\n2026-12-01T00:00:00.000+01:00,temp,2,21.75,21.5,22,43.5\r\n",
    );
  });

  it("streams a large raw export whole", async () => {
    const d = await addDevice(t.base, t.alice, "big");
    await t.server.services.pool.query(
      `WITH s AS (INSERT INTO telemetry_series (device_id, key) VALUES ($1, 'n') RETURNING id)
       INSERT INTO telemetry_points (series_id, ts, num) SELECT s.id, now() - make_interval(secs => g), g FROM s, generate_series(1, 50000) g`,
      [d.id],
    );
    const res = await csv(`deviceId=${d.id}`);
    expect(res.status).toBe(200);
    const lines = res.text.trimEnd().split("\r\n");
    expect(lines).toHaveLength(50_001);
    expect(lines[1]).toMatch(/,n,50000$/); // oldest first
    expect(lines.at(-1)).toMatch(/,n,1$/);
  });

  it("refuses bad arguments with 400, no token with 401, another user's or an unknown device with 404", async () => {
    const d = await seeded();
    expect((await csv(`deviceId=${d.id}&bucket=5 minutes`)).status).toBe(400);
    expect((await csv(`deviceId=${d.id}&timeZone=Mars/Olympus`)).body.detail).toMatch(/IANA/);
    expect((await csv(`deviceId=${d.id}&from=2026-12-01T10:00:00`)).status).toBe(400); // no zone
    expect((await csv(`deviceId=${d.id}&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z`)).status).toBe(400);
    expect((await csv("")).status).toBe(400);
    expect((await http(t.base, "GET", `/export/telemetry.csv?deviceId=${d.id}`)).status).toBe(401);
    const bobs = await csv(`deviceId=${d.id}`, t.bob.accessToken);
    expect(bobs.status).toBe(404);
    expect(bobs.text).not.toContain("temp");
    expect((await csv("deviceId=00000000-0000-4000-8000-000000000000")).status).toBe(404);
  });
});

describe("telemetryKeys", () => {
  const Q = `query ($d: ID!) { telemetryKeys(deviceId: $d) { key value ts count } }`;

  it("lists each key with its latest value, its time and its point count, for the owner only", async () => {
    const d = await seeded();
    const res = await gql(t.base, Q, { d: d.id }, t.alice.accessToken);
    expect(res.data.telemetryKeys).toEqual([
      { key: "cfg", value: { a: [1, 2] }, ts: "2026-12-01T00:30:00.000Z", count: 1 },
      { key: "note", value: "line\nbreak", ts: "2026-11-30T23:30:00.000Z", count: 2 },
      { key: "on", value: true, ts: "2026-12-01T00:30:00.000Z", count: 1 },
      { key: "temp", value: 22, ts: "2026-12-01T00:30:00.000Z", count: 3 },
    ]);
    expect(codeOf(await gql(t.base, Q, { d: d.id }, t.bob.accessToken))).toBe("NOT_FOUND");
  });
});
