import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_DEPTH } from "../../src/services/telemetry/report-validation.js";
import { StateWriter, type Mutation } from "../../src/services/telemetry/state-writer.js";
import type { DeviceStateData } from "../../src/services/telemetry/device-state.model.js";
import { addDevice, gql, signUp } from "../helpers/graphql.js";
import { createDevice, createUser, http, startTestServer, type TestServer } from "../helpers/server.js";

/**
 * "A poisoned report fails only itself": values PostgreSQL text/jsonb cannot hold, or nested
 * beyond reason, are refused with a 400 naming the key, and never take other devices' reports
 * of the same group commit down with them.
 */
let server: TestServer;
let base: string;
let owner: string;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  base = server.url;
  owner = await createUser(server);
});
afterAll(() => server.stop());

/** A V2 report whose `data` is given as raw JSON text, so escapes reach the parser as written. */
const rawReport = (device: { id: string; token: string }, dataJson: string) =>
  http(base, "POST", `/devices/${device.id}/telemetry`, { body: `{"device_token":${JSON.stringify(device.token)},"data":${dataJson}}` });

const latest = (device: { token: string }) => http(base, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}`);

const nested = (open: string, close: string, depth: number, inner = "1") => open.repeat(depth) + inner + close.repeat(depth);

describe("report validation at every depth", () => {
  let device: { id: string; token: string };
  let before: { data: unknown; timestamp: string };
  beforeAll(async () => {
    device = await createDevice(server, owner);
    const first = await rawReport(device, `{"t":21.5,"o":{"s":"ok"}}`);
    expect(first.status).toBe(200);
    before = (await latest(device)).body;
  });

  const SHALLOW = `${"[0]".repeat(MAX_DEPTH)}`;
  it.each<[string, string, string]>([
    ["a NUL in a top-level string", `{"note":"a\\u0000b"}`, 'value of key "note" contains a NUL character (\\u0000), which cannot be stored'],
    ["a NUL in a nested string", `{"o":{"s":"a\\u0000b"}}`, 'value of key "o.s" contains a NUL character (\\u0000), which cannot be stored'],
    ["a NUL in a string in an array", `{"o":{"l":["x","\\u0000"]}}`, 'value of key "o.l[1]" contains a NUL character (\\u0000), which cannot be stored'],
    ["a NUL in a nested key", `{"o":{"a\\u0000":1}}`, 'key "o.a\\u0000" contains a NUL character (\\u0000), which cannot be stored'],
    ["a lone surrogate in a top-level string", `{"s":"\\ud800"}`, 'value of key "s" contains a lone surrogate (not valid Unicode), which cannot be stored'],
    [
      "a lone surrogate in a nested string",
      `{"o":{"s":"x\\udc00y"}}`,
      'value of key "o.s" contains a lone surrogate (not valid Unicode), which cannot be stored',
    ],
    ["a lone surrogate in a nested key", `{"o":{"\\ud800":1}}`, 'key "o.\\ud800" contains a lone surrogate (not valid Unicode), which cannot be stored'],
    ["an array nested 20,000 levels deep", `{"deep":${nested("[", "]", 20_000)}}`, `value of key "deep${SHALLOW}" nests deeper than ${MAX_DEPTH} levels`],
    [
      "objects nested 9 levels deep",
      `{"o":${nested('{"a":', "}", MAX_DEPTH + 1)}}`,
      `value of key "o${".a".repeat(MAX_DEPTH)}" nests deeper than ${MAX_DEPTH} levels`,
    ],
    ["a nested long string", `{"o":{"s":"${"x".repeat(60_000)}"}}`, 'value of key "o.s" is longer than 1024 bytes'],
    ["a long nested key", `{"o":{"${"k".repeat(1025)}":1}}`, `key "o.${"k".repeat(38)}…" is longer than 1024 bytes`],
    ["a nested 1e309 (Infinity)", `{"o":{"x":1e309}}`, 'value of key "o.x" is not a finite number'],
    ["a -1e309 in an array", `{"o":[1,-1e309]}`, 'value of key "o[1]" is not a finite number'],
    [
      "a nested constructor key",
      `{"o":{"a":[{"constructor":1}]}}`,
      'key "o.a[0].constructor" is not acceptable: __proto__, constructor and prototype are reserved',
    ],
    ["a nested prototype key", `{"o":{"prototype":{}}}`, 'key "o.prototype" is not acceptable: __proto__, constructor and prototype are reserved'],
    ["a top-level constructor key", `{"constructor":1}`, 'key "constructor" is not acceptable: __proto__, constructor and prototype are reserved'],
  ])("refuses %s with 400 naming the key, leaving the state as it was", async (_name, dataJson, detail) => {
    const res = await rawReport(device, dataJson);
    expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { detail } });
    const after = await latest(device);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before);
  });

  it("refuses a body that is not valid UTF-8 instead of storing U+FFFD in its place", async () => {
    // Fastify's own parser would decode 0xFF 0xFE leniently and store the replacement characters.
    const prefix = Buffer.from(`{"device_token":${JSON.stringify(device.token)},"data":{"s":"a`);
    for (const bad of [Buffer.from([0xff, 0xfe]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80])]) {
      const body = Buffer.concat([prefix, bad, Buffer.from(`b"}}`)]);
      const rest = await fetch(base + `/devices/${device.id}/telemetry`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect({ status: rest.status, body: await rest.json() }).toEqual({ status: 400, body: { detail: "Request body is not valid UTF-8" } });
      // /graphql answers in its own error shape, with a code.
      const graphql = await fetch(base + "/graphql", { method: "POST", headers: { "content-type": "application/json" }, body });
      expect({ status: graphql.status, body: await graphql.json() }).toEqual({
        status: 400,
        body: { errors: [{ message: "Request body is not valid UTF-8", extensions: { code: "BAD_REQUEST" } }] },
      });
    }
    expect((await latest(device)).body).toEqual(before);
    // Valid multi-byte UTF-8 is of course kept as sent.
    const ok = await fetch(base + `/devices/${device.id}/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.concat([prefix, Buffer.from("é°✓😀"), Buffer.from(`b"}}`)]),
    });
    expect(ok.status).toBe(200);
    expect(((await latest(device)).body as { data: { s: string } }).data.s).toBe("aé°✓😀b");
    const reset = await rawReport(device, `{"s":null}`);
    expect(reset.status).toBe(200);
    before = (await latest(device)).body;
  });

  it("refuses __proto__ keys at any depth: over REST already as JSON, over GraphQL naming the key", async () => {
    // Fastify's body parser refuses __proto__ keys before any route sees them.
    for (const dataJson of [`{"o":{"__proto__":1}}`, `{"__proto__":{"x":1}}`]) {
      const res = await rawReport(device, dataJson);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { detail: "Request body is not valid JSON" } });
    }
    // A GraphQL object literal is not JSON text: nothing but the input checks stand in its way. The
    // GraphQL layer may refuse it before the report validation does, so only the gist is asserted.
    const account = await signUp(base);
    const mine = await addDevice(base, account);
    const set = (desired: string, variables: Record<string, unknown> = {}) =>
      gql(
        base,
        `mutation ($id: ID!${desired.startsWith("$") ? ", $d: JSONObject!" : ""}) { setDeviceState(deviceId: $id, desired: ${desired}) { desired } }`,
        { id: mine.id, ...variables },
        account.accessToken,
      );
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ["{o: {__proto__: 1}}", {}, /"__proto__".*not (acceptable|allowed)|not (acceptable|allowed).*__proto__/],
      ["{o: [{a: {prototype: 1}}]}", {}, /"(o\[0\]\.a\.)?prototype".*not (acceptable|allowed)/],
      ["$d", { d: { o: { s: "a\u0000b" } } }, /NUL character/],
    ];
    for (const [desired, variables, message] of cases) {
      const res = await set(desired, variables);
      expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(message), extensions: { code: "BAD_USER_INPUT" } });
    }
    const state = await gql(base, `query ($id: ID!) { device(id: $id) { state { desired } } }`, { id: mine.id }, account.accessToken);
    expect(state.data?.device.state.desired).toEqual({});
  });
});

describe("a poisoned report fails only itself", () => {
  it("over HTTP: one poisoned report among 50 good ones of other devices (at the limits) is the only one refused", async () => {
    const devices = await Promise.all(Array.from({ length: 50 }, (_, i) => createDevice(server, owner, `good${i}`)));
    const poisoned = await createDevice(server, owner, "poisoned");
    expect((await rawReport(poisoned, `{"v":1}`)).status).toBe(200);
    const before = (await latest(poisoned)).body;

    // Innocent reports as deep and as long as allowed, with a well-formed surrogate pair.
    const atLimits = (i: number) =>
      `{"n":${i},"a":${nested("[", "]", MAX_DEPTH)},"o":${nested('{"a":', "}", MAX_DEPTH - 1, '{"s":"x"}')},"e":{"s":"\\ud83d\\ude00 ${"é".repeat(500)}"}}`;
    const results = await Promise.all([...devices.map((d, i) => rawReport(d, atLimits(i))), rawReport(poisoned, `{"v":2,"o":{"s":"a\\u0000b"}}`)]);
    expect(results.slice(0, 50).map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(results[3]!.body.data).toEqual(JSON.parse(atLimits(3)));
    expect(results[50]!.status).toBe(400);
    expect(results[50]!.body.detail).toContain('"o.s"');

    const { rows } = await server.services.pool.query<{ device_id: string; num: number }>(
      `SELECT device_id, num FROM telemetry WHERE key = 'n' AND device_id = ANY($1::uuid[])`,
      [devices.map((d) => d.id)],
    );
    expect(new Map(rows.map((r) => [r.device_id, r.num]))).toEqual(new Map(devices.map((d, i) => [d.id, i])));
    const stored = await server.services.pool.query(`SELECT val FROM telemetry WHERE device_id = $1 AND key = 'e'`, [devices[0]!.id]);
    expect(stored.rows).toEqual([{ val: { s: `😀 ${"é".repeat(500)}` } }]);
    expect((await latest(poisoned)).body).toEqual(before);
  });
});

describe("StateWriter: a batch PostgreSQL refuses is split until only the offender fails", () => {
  /** A report of `key` = `value` straight to the writer, bypassing validation. */
  const put = (deviceId: string, key: string, value: unknown, numeric = false): Mutation<string> => ({
    deviceId,
    run: (current: DeviceStateData) => {
      const at = Date.now();
      const next: DeviceStateData = {
        ...current,
        reported: { ...current.reported, [key]: value as never },
        reportedTs: { ...current.reportedTs, [key]: at },
        reportedAt: at,
        version: current.version + 1,
      };
      const n = numeric ? (value as number) : null;
      return { next, history: [{ d: deviceId, k: key, t: at, n, v: numeric ? null : (value as never) }], result: key };
    },
  });

  it.each<[string, unknown]>([
    ["a NUL (22P05)", "a\u0000b"],
    ["a lone surrogate (22P02)", "\ud800"],
    ["a value too deep to serialize", JSON.parse(nested("[", "]", 20_000))],
  ])("%s in one mutation: 50 fulfilled, 1 rejected with BAD_USER_INPUT, state untouched", async (_name, poison) => {
    const writer = new StateWriter(server.services.pool);
    const devices = await Promise.all(Array.from({ length: 50 }, () => createDevice(server, owner)));
    const victim = await createDevice(server, owner);
    // Same tick: one batch.
    const pending = [
      ...devices.slice(0, 25).map((d, i) => writer.submit(put(d.id, "n", i, true))),
      writer.submit(put(victim.id, "bad", poison)),
      ...devices.slice(25).map((d, i) => writer.submit(put(d.id, "n", 25 + i, true))),
    ];
    const settled = await Promise.allSettled(pending);
    expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(50);
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(settled[25]!.status).toBe("rejected");
    expect(rejected[0]!.reason).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/^the change could not be stored: /) });

    const { rows } = await server.services.pool.query<{ device_id: string; num: number }>(
      `SELECT device_id, num FROM telemetry WHERE key = 'n' AND device_id = ANY($1::uuid[])`,
      [devices.map((d) => d.id)],
    );
    expect(new Map(rows.map((r) => [r.device_id, r.num]))).toEqual(new Map(devices.map((d, i) => [d.id, i])));
    const state = await server.services.pool.query(`SELECT version, reported FROM device_state WHERE device_id = $1`, [victim.id]);
    expect(state.rows[0]).toEqual({ version: 0, reported: {} });
    // The writer's memory agrees with the database, for the victim and for the innocent.
    expect(await writer.read(victim.id)).toMatchObject({ version: 0, reported: {} });
    expect(await writer.read(devices[7]!.id)).toMatchObject({ version: 1, reported: { n: 7 } });
  });

  it("keeps each device's order: the changes around a refused one commit, in order, on top of each other", async () => {
    const writer = new StateWriter(server.services.pool);
    const [a, b] = [await createDevice(server, owner), await createDevice(server, owner)];
    const append = (deviceId: string, item: string): Mutation<string> => ({
      deviceId,
      run: (current) => {
        const log = [...((current.reported.log as string[] | undefined) ?? []), item];
        return put(deviceId, "log", log).run(current);
      },
    });
    const pending = [
      writer.submit(append(a.id, "a1")),
      writer.submit(append(b.id, "b1")),
      writer.submit(put(a.id, "bad", "x\u0000")),
      writer.submit(append(b.id, "b2")),
      writer.submit(append(a.id, "a2")),
      writer.submit(append(a.id, "a3")),
    ];
    const settled = await Promise.allSettled(pending);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
    const { rows } = await server.services.pool.query(`SELECT device_id, reported->'log' AS log, version FROM device_state WHERE device_id = ANY($1::uuid[])`, [
      [a.id, b.id],
    ]);
    const byId = new Map(rows.map((r) => [r.device_id, r]));
    expect(byId.get(a.id)).toEqual({ device_id: a.id, log: ["a1", "a2", "a3"], version: 3 });
    expect(byId.get(b.id)).toEqual({ device_id: b.id, log: ["b1", "b2"], version: 2 });
    expect((await writer.read(a.id))!.reported.log).toEqual(["a1", "a2", "a3"]);
  });
});
