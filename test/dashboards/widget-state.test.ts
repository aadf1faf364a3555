import { describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { FakeFirmware } from "../helpers/firmware.js";
import { http, ISO_RE, sleep, startTestServer } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const SET = `mutation ($id: ID!, $state: JSON!) { setWidgetState(id: $id, state: $state) { id virtualPin value pending device { state { reported desired } } } }`;
const GET = `query ($id: ID!) { widget(id: $id) { value pending } }`;
const FOREIGN = "00000000-0000-4000-8000-000000000000";

/** An account with a device and, on one dashboard, an led widget (v0) and a gauge. */
async function setup() {
  const a = await signUp(ctx.base);
  const device = await addDevice(ctx.base, a);
  const dash = await gql(ctx.base, `mutation { createDashboard(input: {name: "D"}) { id } }`, {}, a.accessToken);
  const mk = async (input: object) =>
    (
      await gql(
        ctx.base,
        `mutation ($input: CreateWidgetInput!) { createWidget(input: $input) { id } }`,
        { input: { dashboardId: dash.data.createDashboard.id, deviceId: device.id, ...input } },
        a.accessToken,
      )
    ).data.createWidget.id as string;
  return { a, device, led: await mk({ type: "led", label: "LED" }), gauge: await mk({ type: "gauge", label: "T", key: "t" }) };
}

const set = (a: Account, id: string, state: unknown) => gql(ctx.base, SET, { id, state }, a.accessToken);
const rest = (id: string, body: unknown, token?: string) =>
  http(ctx.base, "POST", `/widgets/${id}/state`, { body, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("setWidgetState", () => {
  it("becomes a desired 0/1 that a polling device picks up; pending until the device reports it", async () => {
    const { a, device, led } = await setup();
    const fw = new FakeFirmware(ctx.base, device.id, device.token);
    await fw.report();
    const res = await set(a, led, true);
    expect(res.data.setWidgetState).toEqual({
      id: led,
      virtualPin: "v0",
      value: 1,
      pending: true,
      device: { state: { reported: expect.objectContaining({ v0: 0 }), desired: { v0: 1 } } },
    });
    expect((await fw.poll()).v0).toBe(1);
    expect(fw.pins.v0).toBe(1);
    await sleep(50); // the delivery mark is written in the background
    expect((await gql(ctx.base, GET, { id: led }, a.accessToken)).data.widget).toEqual({ value: 1, pending: true });
    await fw.report();
    expect((await gql(ctx.base, GET, { id: led }, a.accessToken)).data.widget).toEqual({ value: 1, pending: false });
  });

  it.each([
    [1, 1],
    [true, 1],
    ["1", 1],
    [0, 0],
    [false, 0],
    ["0", 0],
  ])("normalizes %j to the integer %j firmware reads", async (state, level) => {
    const { a, device, led } = await setup();
    await set(a, led, state);
    const polled = await http(ctx.base, "GET", `/telemetry/latest?device_token=${device.token}`);
    expect(polled.body.data).toEqual({ v0: level });
    expect(Object.is(polled.body.data.v0, level)).toBe(true);
  });

  it.each([2, -1, 0.5, "on", "true", "", [1], { on: 1 }])("refuses the state %j", async (state) => {
    const { a, device, led } = await setup();
    const res = await set(a, led, state);
    expect(res.errors![0]).toMatchObject({ message: "state must be 0, 1, true or false", extensions: { code: "BAD_USER_INPUT" } });
    expect((await ctx.server.services.state.get(device.id)).desired).toEqual({});
    expect(codeOf(await set(a, led, null))).toBe("BAD_USER_INPUT"); // JSON! refuses null before the resolver
  });

  it("refuses a non-output widget; another user's, a missing or a malformed id is NOT_FOUND whatever the state", async () => {
    const { a, led, gauge } = await setup();
    const b = await signUp(ctx.base);
    expect((await set(a, gauge, 1)).errors![0]).toMatchObject({
      message: "only output widgets (led) take a state; this one is a gauge",
      extensions: { code: "BAD_USER_INPUT" },
    });
    for (const id of [led, FOREIGN, "v0"]) expect(codeOf(await set(b, id, "garbage"))).toBe("NOT_FOUND");
    expect(codeOf(await gql(ctx.base, SET, { id: led, state: 1 }))).toBe("UNAUTHENTICATED");
  });

  it("is rate limited per user like setDeviceState (120 per minute)", async () => {
    const strict = await startTestServer({ GRAPHQL_RATE_LIMIT_FACTOR: "1", RATE_LIMIT_MAX: "100000" }, ctx.server.databaseUrl);
    try {
      const { a, led } = await setup();
      const twenty = `mutation ($id: ID!) { ${Array.from({ length: 20 }, (_, i) => `s${i}: setWidgetState(id: $id, state: ${i % 2}) { id }`).join(" ")} }`;
      // Mutations run one after the other and the first refusal ends the request: 6 x 20 pass, the 121st is refused.
      const codes: Array<string | undefined> = [];
      for (let i = 0; i < 7; i++) {
        const res = await gql(strict.url, twenty, { id: led }, a.accessToken);
        codes.push(...(res.errors ?? []).map((e) => e.extensions?.code));
        if (i < 6) expect(res.data).not.toBeNull();
      }
      expect(codes).toEqual(["RATE_LIMITED"]);
      const other = await setup(); // counted per user
      expect((await gql(strict.url, twenty, { id: other.led }, other.a.accessToken)).errors).toBeUndefined();
    } finally {
      await strict.close();
    }
  });
});

describe("POST /widgets/{id}/state", () => {
  it("answers the old shape and reaches the device", async () => {
    const { a, device, led } = await setup();
    for (const [state, level] of [
      [1, 1],
      [false, 0],
      [true, 1],
    ] as const) {
      const res = await rest(led, { state }, a.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: "ok", state: level, virtual_pin: "v0", timestamp: expect.stringMatching(ISO_RE) });
    }
    expect((await http(ctx.base, "GET", `/telemetry/latest?device_token=${device.token}`)).body.data).toEqual({ v0: 1 });
    expect((await ctx.server.services.state.get(device.id)).reported).toEqual({}); // a command never writes reported values
  });

  it("400 on a bad state or body, for the caller's output widget", async () => {
    const { a, led, gauge } = await setup();
    expect(await rest(led, { state: 5 }, a.accessToken)).toMatchObject({ status: 400, body: { detail: "state must be 0, 1, true or false" } });
    expect(await rest(led, {}, a.accessToken)).toMatchObject({ status: 400, body: { detail: "state is missing: send 0, 1, true or false" } });
    expect(await rest(led, [1], a.accessToken)).toMatchObject({ status: 400, body: { detail: "state is missing: send 0, 1, true or false" } });
    expect(await rest(led, "{not json", a.accessToken)).toMatchObject({ status: 400, body: { detail: "Request body is not valid JSON" } });
    expect(await rest(gauge, { state: 1 }, a.accessToken)).toMatchObject({
      status: 400,
      body: { detail: "only output widgets (led) take a state; this one is a gauge" },
    });
  });

  it("401 without a valid token, 404 (never 403) for a widget that is not the caller's", async () => {
    const { a, led } = await setup();
    const b = await signUp(ctx.base);
    expect(await rest(led, { state: 1 })).toMatchObject({ status: 401, body: { detail: "Sign in: this operation needs an access token" } });
    expect(await rest(led, { state: 1 }, "garbage")).toMatchObject({ status: 401, body: { detail: "Access token is invalid" } });
    for (const id of [led, FOREIGN, "not-a-uuid"]) {
      expect(await rest(id, { state: 1 }, b.accessToken)).toMatchObject({ status: 404, body: { detail: "Widget not found" } });
      expect((await rest(id, { state: "bad" }, b.accessToken)).status).toBe(404);
    }
    await gql(ctx.base, `mutation { logout { message } }`, {}, a.accessToken);
    expect(await rest(led, { state: 1 }, a.accessToken)).toMatchObject({ status: 401, body: { detail: "Access token was revoked: log in again" } });
  });
});
