import { describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, ISO_RE } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const FIELDS = `id name description createdAt updatedAt widgetCount widgets { id label order width height }`;
const CREATE = `mutation ($input: CreateDashboardInput!) { createDashboard(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { ${FIELDS} } }`;
const GET = `query ($id: ID!) { dashboard(id: $id) { ${FIELDS} } }`;
const DELETE = `mutation ($id: ID!) { deleteDashboard(id: $id) }`;
const LAYOUT = `mutation ($id: ID!, $layout: [WidgetLayoutInput!]!) { updateDashboardLayout(id: $id, layout: $layout) { widgets { label order width height } } }`;
const FOREIGN = "00000000-0000-4000-8000-000000000000";

const createDashboard = async (a: Account, name = "Home") => (await gql(ctx.base, CREATE, { input: { name } }, a.accessToken)).data.createDashboard;
const widget = async (a: Account, dashboardId: string, input: object) =>
  (await gql(ctx.base, `mutation ($input: CreateWidgetInput!) { createWidget(input: $input) { id } }`, { input: { dashboardId, ...input } }, a.accessToken))
    .data.createWidget.id as string;
const labels = async (a: Account, id: string) =>
  (await gql(ctx.base, GET, { id }, a.accessToken)).data.dashboard.widgets.map((w: { label: string }) => w.label);

describe("dashboards", () => {
  it("creates, lists in creation order and reads one, in the exact shape", async () => {
    const a = await signUp(ctx.base);
    const res = await gql(ctx.base, CREATE, { input: { name: "  Home ", description: "ground floor" } }, a.accessToken);
    const home = res.data.createDashboard;
    expect(home).toEqual({
      id: expect.any(String),
      name: "Home",
      description: "ground floor",
      createdAt: expect.stringMatching(ISO_RE),
      updatedAt: expect.stringMatching(ISO_RE),
      widgetCount: 0,
      widgets: [],
    });
    const garden = await createDashboard(a, "Garden");
    await widget(a, garden.id, { type: "card", label: "one" });
    await widget(a, garden.id, { type: "card", label: "two" });
    const list = await gql(ctx.base, `{ dashboards { name widgetCount widgets { label order } } }`, {}, a.accessToken);
    expect(list.data.dashboards).toEqual([
      { name: "Home", widgetCount: 0, widgets: [] },
      {
        name: "Garden",
        widgetCount: 2,
        widgets: [
          { label: "one", order: 0 },
          { label: "two", order: 1 },
        ],
      },
    ]);
    expect((await gql(ctx.base, GET, { id: home.id }, a.accessToken)).data.dashboard).toEqual(home);
  });

  it("dashboard(id) is null for a missing, malformed or another user's id", async () => {
    const a = await signUp(ctx.base);
    const b = await signUp(ctx.base);
    const home = await createDashboard(a);
    for (const id of [home.id, FOREIGN, "x", "1"]) {
      const res = await gql(ctx.base, GET, { id }, b.accessToken);
      expect(res.errors).toBeUndefined();
      expect(res.data.dashboard).toBeNull();
    }
    expect((await gql(ctx.base, `{ dashboards { id } }`, {}, b.accessToken)).data.dashboards).toEqual([]);
    expect(codeOf(await gql(ctx.base, `{ dashboards { id } }`))).toBe("UNAUTHENTICATED");
  });

  it.each([
    [{ name: "" }, "name must be 1 to 100 characters"],
    [{ name: "n".repeat(101) }, "name must be 1 to 100 characters"],
    [{ name: "ok", description: "d".repeat(501) }, "description must be 1 to 500 characters"],
  ])("refuses %o", async (input, message) => {
    const a = await signUp(ctx.base);
    expect((await gql(ctx.base, CREATE, { input }, a.accessToken)).errors![0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
  });

  it("updates name and description (blank clears it); another user's id is NOT_FOUND before the input is checked", async () => {
    const a = await signUp(ctx.base);
    const b = await signUp(ctx.base);
    const home = await createDashboard(a);
    const res = await gql(ctx.base, UPDATE, { id: home.id, input: { name: "House", description: "all of it" } }, a.accessToken);
    expect(res.data.updateDashboard).toMatchObject({ id: home.id, name: "House", description: "all of it" });
    const cleared = await gql(ctx.base, UPDATE, { id: home.id, input: { description: " " } }, a.accessToken);
    expect(cleared.data.updateDashboard).toMatchObject({ name: "House", description: null });
    expect(codeOf(await gql(ctx.base, UPDATE, { id: home.id, input: { name: "" } }, a.accessToken))).toBe("BAD_USER_INPUT");
    for (const id of [home.id, FOREIGN, "garbage"]) {
      expect(codeOf(await gql(ctx.base, UPDATE, { id, input: { name: "" } }, b.accessToken))).toBe("NOT_FOUND");
    }
    expect((await gql(ctx.base, GET, { id: home.id }, a.accessToken)).data.dashboard.name).toBe("House");
  });
});

describe("updateDashboardLayout", () => {
  async function fiveWidgets() {
    const a = await signUp(ctx.base);
    const dash = await createDashboard(a);
    const ids: Record<string, string> = {};
    for (const label of ["a", "b", "c", "d", "e"]) ids[label] = await widget(a, dash.id, { type: "card", label });
    return { a, dashId: dash.id as string, ids };
  }

  it("the array order is the order; widgets not listed follow in their previous order", async () => {
    const { a, dashId, ids } = await fiveWidgets();
    const res = await gql(
      ctx.base,
      LAYOUT,
      {
        id: dashId,
        layout: [
          { widgetId: ids.d, width: 12 },
          { widgetId: ids.b.toUpperCase(), height: 3 },
        ],
      },
      a.accessToken,
    );
    expect(res.data.updateDashboardLayout.widgets).toEqual([
      { label: "d", order: 0, width: 12, height: 2 },
      { label: "b", order: 1, width: 4, height: 3 },
      { label: "a", order: 2, width: 4, height: 2 },
      { label: "c", order: 3, width: 4, height: 2 },
      { label: "e", order: 4, width: 4, height: 2 },
    ]);
    const all = ["e", "d", "c", "b", "a"].map((l) => ({ widgetId: ids[l] }));
    await gql(ctx.base, LAYOUT, { id: dashId, layout: all }, a.accessToken);
    expect(await labels(a, dashId)).toEqual(["e", "d", "c", "b", "a"]);
  });

  it("an id that is not a widget of this dashboard is NOT_FOUND and changes nothing", async () => {
    const { a, dashId, ids } = await fiveWidgets();
    const other = await createDashboard(a, "Other");
    const elsewhere = await widget(a, other.id, { type: "card", label: "x" });
    const b = await fiveWidgets();
    for (const stranger of [elsewhere, b.ids.a, FOREIGN, "nope"]) {
      const res = await gql(ctx.base, LAYOUT, { id: dashId, layout: [{ widgetId: ids.e, width: 1 }, { widgetId: stranger }] }, a.accessToken);
      expect(codeOf(res)).toBe("NOT_FOUND");
    }
    expect(codeOf(await gql(ctx.base, LAYOUT, { id: b.dashId, layout: [] }, a.accessToken))).toBe("NOT_FOUND");
    expect(codeOf(await gql(ctx.base, LAYOUT, { id: "x", layout: [] }, a.accessToken))).toBe("NOT_FOUND");
    const dup = await gql(ctx.base, LAYOUT, { id: dashId, layout: [{ widgetId: ids.e }, { widgetId: ids.e }] }, a.accessToken);
    expect(dup.errors![0]).toMatchObject({ message: "layout names a widget more than once", extensions: { code: "BAD_USER_INPUT" } });
    const size = await gql(ctx.base, LAYOUT, { id: dashId, layout: [{ widgetId: ids.e }, { widgetId: ids.a, width: 13 }] }, a.accessToken);
    expect(size.errors![0]).toMatchObject({ message: "width must be 1 to 12", extensions: { code: "BAD_USER_INPUT" } });
    const after = (await gql(ctx.base, GET, { id: dashId }, a.accessToken)).data.dashboard.widgets;
    expect(after.map((w: { label: string; order: number; width: number }) => [w.label, w.order, w.width])).toEqual([
      ["a", 0, 4],
      ["b", 1, 4],
      ["c", 2, 4],
      ["d", 3, 4],
      ["e", 4, 4],
    ]);
  });
});

describe("deletion", () => {
  const count = async (sql: string, params: unknown[]) => Number((await ctx.server.services.pool.query(sql, params)).rows[0].n);
  const soon = () => new Date(Date.now() + 3_600_000).toISOString();

  async function furnished() {
    const a = await signUp(ctx.base);
    const device = await addDevice(ctx.base, a);
    const dash = await createDashboard(a);
    const led = await widget(a, dash.id, { type: "led", label: "L", deviceId: device.id });
    await widget(a, dash.id, { type: "card", label: "free" });
    await gql(
      ctx.base,
      `mutation ($w: ID!, $t: DateTime!) { createSchedule(widgetId: $w, state: 1, executeAt: $t) { id } }`,
      { w: led, t: soon() },
      a.accessToken,
    );
    return { a, device, dashId: dash.id as string, led };
  }

  it("deleteDashboard takes its widgets and their schedules; another user's is NOT_FOUND and stays", async () => {
    const { a, dashId, led } = await furnished();
    const b = await signUp(ctx.base);
    for (const id of [dashId, FOREIGN, "x"]) expect(codeOf(await gql(ctx.base, DELETE, { id }, b.accessToken))).toBe("NOT_FOUND");
    expect((await gql(ctx.base, DELETE, { id: dashId }, a.accessToken)).data.deleteDashboard).toBe(true);
    expect(codeOf(await gql(ctx.base, DELETE, { id: dashId }, a.accessToken))).toBe("NOT_FOUND");
    expect(
      await count(`SELECT (SELECT count(*) FROM widgets WHERE dashboard_id = $1) + (SELECT count(*) FROM schedules WHERE widget_id = $2) AS n`, [dashId, led]),
    ).toBe(0);
  });

  it("deleteDevice takes the widgets bound to it (and their schedules); the others keep their order", async () => {
    const { a, device, dashId, led } = await furnished();
    await widget(a, dashId, { type: "card", label: "last" });
    expect((await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: device.id }, a.accessToken)).data.deleteDevice).toBe(true);
    expect(await labels(a, dashId)).toEqual(["free", "last"]);
    expect(await count(`SELECT count(*) AS n FROM schedules WHERE widget_id = $1`, [led])).toBe(0);
    // The next change to the dashboard closes the gap the device left.
    await widget(a, dashId, { type: "card", label: "new" });
    const orders = (await gql(ctx.base, GET, { id: dashId }, a.accessToken)).data.dashboard.widgets.map((w: { order: number }) => w.order);
    expect(orders).toEqual([0, 1, 2]);
  });

  it("deleteMe leaves no dashboard, widget or schedule behind", async () => {
    const { a, device } = await furnished();
    await http(ctx.base, "POST", "/telemetry", { body: { device_token: device.token, data: { t: 1 } } });
    expect((await gql(ctx.base, `mutation { deleteMe }`, {}, a.accessToken)).data.deleteMe).toBe(true);
    const left = await count(
      `SELECT (SELECT count(*) FROM dashboards WHERE owner_id = $1) + (SELECT count(*) FROM widgets WHERE owner_id = $1)
            + (SELECT count(*) FROM schedules WHERE owner_id = $1) AS n`,
      [a.userId],
    );
    expect(left).toBe(0);
    // And nothing anywhere points at a row that is gone.
    expect(await count(`SELECT count(*) AS n FROM widgets w LEFT JOIN dashboards d ON d.id = w.dashboard_id WHERE d.id IS NULL`, [])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM schedules s LEFT JOIN widgets w ON w.id = s.widget_id WHERE w.id IS NULL`, [])).toBe(0);
  });
});
