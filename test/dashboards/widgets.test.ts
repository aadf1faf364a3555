import { describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const FIELDS = `id dashboardId deviceId device { id } type label value virtualPin key config order width height pending nextSchedule { id }`;
const CREATE = `mutation ($input: CreateWidgetInput!) { createWidget(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateWidgetInput!) { updateWidget(id: $id, input: $input) { ${FIELDS} } }`;
const GET = `query ($id: ID!) { widget(id: $id) { ${FIELDS} } }`;
const DELETE = `mutation ($id: ID!) { deleteWidget(id: $id) }`;
const FOREIGN = "00000000-0000-4000-8000-000000000000";

async function dashboardOf(a: Account): Promise<string> {
  const res = await gql(ctx.base, `mutation { createDashboard(input: {name: "Home"}) { id } }`, {}, a.accessToken);
  return res.data.createDashboard.id;
}

async function setup() {
  const a = await signUp(ctx.base);
  return { a, dashboardId: await dashboardOf(a), device: await addDevice(ctx.base, a) };
}

const create = (a: Account, input: Record<string, unknown>) => gql(ctx.base, CREATE, { input }, a.accessToken);

describe("createWidget", () => {
  it("creates a key-bound widget with defaults, in the exact shape", async () => {
    const { a, dashboardId, device } = await setup();
    const res = await create(a, { dashboardId, type: "gauge", label: "  Temperature ", deviceId: device.id, key: "temperature" });
    expect(res.errors).toBeUndefined();
    expect(res.data.createWidget).toEqual({
      id: expect.any(String),
      dashboardId,
      deviceId: device.id,
      device: { id: device.id },
      type: "gauge",
      label: "Temperature",
      value: null,
      virtualPin: null,
      key: "temperature",
      config: {},
      order: 0,
      width: 4,
      height: 2,
      pending: false,
      nextSchedule: null,
    });
    const second = await create(a, { dashboardId, type: "card", label: "Note", config: { color: "red" }, width: 12, height: 1 });
    expect(second.data.createWidget).toMatchObject({ deviceId: null, device: null, key: null, config: { color: "red" }, order: 1, width: 12, height: 1 });
  });

  it("lists the valid types when the type is unknown", async () => {
    const { a, dashboardId } = await setup();
    const res = await create(a, { dashboardId, type: "switch", label: "x" });
    expect(res.errors![0]).toMatchObject({
      message:
        'type "switch" is not a widget type; valid types: card, gauge, indicator, chart, digital, thermometer, tank, battery, status, energy, led, connectivity',
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it("gives led widgets the lowest free pin of their device, and reuses a freed one", async () => {
    const { a, dashboardId, device } = await setup();
    const led = async () => (await create(a, { dashboardId, type: "led", label: "LED", deviceId: device.id })).data.createWidget;
    const first = await led();
    const second = await led();
    expect([first.virtualPin, second.virtualPin]).toEqual(["v0", "v1"]);
    expect(first).toMatchObject({ key: null, value: null, pending: false });
    // Another device starts again at v0; another dashboard shares the device's pins.
    const other = await addDevice(ctx.base, a, "other");
    expect((await create(a, { dashboardId, type: "led", label: "x", deviceId: other.id })).data.createWidget.virtualPin).toBe("v0");
    const elsewhere = await dashboardOf(a);
    expect((await create(a, { dashboardId: elsewhere, type: "led", label: "x", deviceId: device.id })).data.createWidget.virtualPin).toBe("v2");
    expect((await gql(ctx.base, DELETE, { id: first.id }, a.accessToken)).data.deleteWidget).toBe(true);
    expect((await led()).virtualPin).toBe("v0");
    // A given pin is lower-cased and may be shared (two tiles for one output).
    expect((await create(a, { dashboardId, type: "led", label: "x", deviceId: device.id, virtualPin: "V7" })).data.createWidget.virtualPin).toBe("v7");
    expect((await create(a, { dashboardId, type: "led", label: "x", deviceId: device.id, virtualPin: "v1" })).data.createWidget.virtualPin).toBe("v1");
    expect((await led()).virtualPin).toBe("v3");
  });

  it.each([
    [{ type: "led", virtualPin: "x1" }, "virtualPin must be v0 to v255 (like v0, v1)"],
    [{ type: "led", virtualPin: "v01" }, "virtualPin must be v0 to v255 (like v0, v1)"],
    [{ type: "led", virtualPin: "v256" }, "virtualPin must be v0 to v255 (like v0, v1)"],
    [{ type: "led", key: "v0" }, "a led widget is bound by virtualPin, not key"],
    [{ type: "led", deviceId: null }, "a led widget needs a deviceId"],
    [{ type: "gauge", virtualPin: "v0", key: "t" }, "virtualPin is only for output widgets (led)"],
    [{ type: "gauge" }, "a gauge widget bound to a device needs a key"],
    [{ type: "gauge", key: "bad key" }, "key must be 1-64 characters of A-Z a-z 0-9 _ . : -"],
    [{ type: "gauge", key: "k".repeat(65) }, "key must be 1-64 characters of A-Z a-z 0-9 _ . : -"],
    [{ type: "card", deviceId: null, key: "t" }, "key needs a deviceId"],
    [{ type: "card", label: "   " }, "label must be 1 to 100 characters"],
    [{ type: "card", label: "x".repeat(101) }, "label must be 1 to 100 characters"],
    [{ type: "card", width: 0 }, "width must be 1 to 12"],
    [{ type: "card", height: 13 }, "height must be 1 to 12"],
    [{ type: "card", config: { blob: "x".repeat(9000) } }, "config must be at most 8192 bytes of JSON"],
  ])("refuses %o", async (override, message) => {
    const { a, dashboardId, device } = await setup();
    const res = await create(a, { dashboardId, label: "x", deviceId: device.id, ...override });
    expect(res.errors![0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
    expect(
      (await gql(ctx.base, `query ($id: ID!) { dashboard(id: $id) { widgetCount } }`, { id: dashboardId }, a.accessToken)).data.dashboard.widgetCount,
    ).toBe(0);
  });

  it("never binds another user's device or dashboard: NOT_FOUND, checked before the other arguments", async () => {
    const { a, dashboardId } = await setup();
    const b = await setup();
    for (const input of [
      { dashboardId, type: "led", label: "x", deviceId: b.device.id },
      { dashboardId, type: "nonsense", label: "", deviceId: b.device.id },
      { dashboardId, type: "gauge", label: "x", deviceId: "not-a-uuid", key: "t" },
      { dashboardId: b.dashboardId, type: "card", label: "x" },
      { dashboardId: "garbage", type: "nonsense", label: "" },
      { dashboardId: FOREIGN, type: "card", label: "x" },
    ]) {
      const res = await create(a, input);
      expect(codeOf(res)).toBe("NOT_FOUND");
      expect(res.data).toBeNull();
    }
    const { rows } = await ctx.server.services.pool.query(`SELECT count(*)::int AS n FROM widgets WHERE owner_id = $1 OR device_id = $2`, [
      a.userId,
      b.device.id,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it("needs a signed-in caller", async () => {
    expect(codeOf(await gql(ctx.base, CREATE, { input: { dashboardId: FOREIGN, type: "card", label: "x" } }))).toBe("UNAUTHENTICATED");
  });
});

describe("widget, updateWidget, deleteWidget", () => {
  it("answers null for a missing, malformed or foreign id, and the widget for its owner", async () => {
    const { a, dashboardId } = await setup();
    const b = await signUp(ctx.base);
    const w = (await create(a, { dashboardId, type: "card", label: "x" })).data.createWidget;
    expect((await gql(ctx.base, GET, { id: w.id }, a.accessToken)).data.widget).toEqual(w);
    expect((await gql(ctx.base, GET, { id: w.id.toUpperCase() }, a.accessToken)).data.widget.id).toBe(w.id);
    for (const id of [w.id, FOREIGN, "nope", ""]) {
      const res = await gql(ctx.base, GET, { id }, b.accessToken);
      expect(res).toMatchObject({ data: { widget: null } });
      expect(res.errors).toBeUndefined();
    }
  });

  it("updates label, config, key and size; null leaves a field as it is", async () => {
    const { a, dashboardId, device } = await setup();
    const w = (await create(a, { dashboardId, type: "chart", label: "T", deviceId: device.id, key: "t" })).data.createWidget;
    const res = await gql(
      ctx.base,
      UPDATE,
      { id: w.id, input: { label: "Humidity", config: { unit: "%" }, key: "humidity", width: 6, height: null } },
      a.accessToken,
    );
    expect(res.data.updateWidget).toEqual({ ...w, label: "Humidity", config: { unit: "%" }, key: "humidity", width: 6 });
  });

  it("refuses bad changes, and another user's widget is NOT_FOUND whatever the input", async () => {
    const { a, dashboardId, device } = await setup();
    const b = await signUp(ctx.base);
    const led = (await create(a, { dashboardId, type: "led", label: "L", deviceId: device.id })).data.createWidget;
    const card = (await create(a, { dashboardId, type: "card", label: "C" })).data.createWidget;
    const refused = async (id: string, input: object) => (await gql(ctx.base, UPDATE, { id, input }, a.accessToken)).errors![0];
    expect(await refused(led.id, { key: "t" })).toMatchObject({
      message: "a led widget is bound by virtualPin, not key",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect(await refused(card.id, { key: "t" })).toMatchObject({ message: "key needs a deviceId", extensions: { code: "BAD_USER_INPUT" } });
    expect(await refused(card.id, { label: "" })).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    expect(await refused(card.id, { width: 99 })).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    for (const id of [led.id, FOREIGN, "x"]) {
      expect(codeOf(await gql(ctx.base, UPDATE, { id, input: { label: "" } }, b.accessToken))).toBe("NOT_FOUND");
      expect(codeOf(await gql(ctx.base, DELETE, { id }, b.accessToken))).toBe("NOT_FOUND");
    }
    expect((await gql(ctx.base, GET, { id: led.id }, a.accessToken)).data.widget.label).toBe("L");
  });

  it("deleting closes the gap in the order; deleting twice is NOT_FOUND", async () => {
    const { a, dashboardId } = await setup();
    const ids: string[] = [];
    for (const label of ["a", "b", "c"]) ids.push((await create(a, { dashboardId, type: "card", label })).data.createWidget.id);
    expect((await gql(ctx.base, DELETE, { id: ids[1] }, a.accessToken)).data.deleteWidget).toBe(true);
    expect(codeOf(await gql(ctx.base, DELETE, { id: ids[1] }, a.accessToken))).toBe("NOT_FOUND");
    const dash = await gql(ctx.base, `query ($id: ID!) { dashboard(id: $id) { widgetCount widgets { label order } } }`, { id: dashboardId }, a.accessToken);
    expect(dash.data.dashboard).toEqual({
      widgetCount: 2,
      widgets: [
        { label: "a", order: 0 },
        { label: "c", order: 1 },
      ],
    });
  });
});

describe("values from telemetry", () => {
  it("a key-bound widget shows the latest reported value, from V2 and legacy reports alike", async () => {
    const { a, dashboardId, device } = await setup();
    const w = (await create(a, { dashboardId, type: "thermometer", label: "T", deviceId: device.id, key: "temperature" })).data.createWidget;
    const value = async () => (await gql(ctx.base, GET, { id: w.id }, a.accessToken)).data.widget.value;
    const legacy = await http(ctx.base, "POST", "/telemetry", { body: { device_token: device.token, data: { temperature: 21.5, humidity: 40 } } });
    expect(legacy.status).toBe(200);
    expect(await value()).toBe(21.5);
    await http(ctx.base, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { temperature: 22 } } });
    expect(await value()).toBe(22);
    await http(ctx.base, "POST", "/telemetry", { body: { device_token: device.token, data: { humidity: 41 } } });
    expect(await value()).toBe(22);
  });

  it("Device.widgets lists the widgets bound to a device, and nothing leaks through another user's ids", async () => {
    const { a, dashboardId, device } = await setup();
    const b = await signUp(ctx.base);
    const w = (await create(a, { dashboardId, type: "battery", label: "B", deviceId: device.id, key: "bat" })).data.createWidget;
    await create(a, { dashboardId, type: "card", label: "unbound" });
    const q = `query ($id: ID!) { device(id: $id) { widgets { id device { id } } } }`;
    expect((await gql(ctx.base, q, { id: device.id }, a.accessToken)).data.device.widgets).toEqual([{ id: w.id, device: { id: device.id } }]);
    expect((await gql(ctx.base, q, { id: device.id }, b.accessToken)).data.device).toBeNull();
    const all = await gql(ctx.base, `{ devices { widgets { id } } dashboards { widgets { id } } }`, {}, b.accessToken);
    expect(all.data).toEqual({ devices: [], dashboards: [] });
  });
});
