import { describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

// The tree read of `dashboards` (one statement, devices and states loaded before the widgets' fields)
// must answer exactly what the per-dashboard path (`dashboard(id)`, DataLoaders) answers.
const WIDGET = `id dashboardId type label deviceId key virtualPin config order width height createdAt updatedAt value pending device { id name state { merged } }`;
const PLAIN = `{ dashboards { id name description createdAt updatedAt widgetCount widgets { ${WIDGET} } } }`;
const FRAGMENTS = `query { dashboards { ...D } }
  fragment D on Dashboard { id name description createdAt updatedAt widgetCount widgets { ... on Widget { ...W } } }
  fragment W on Widget { ${WIDGET} }`;
const ONE = `query ($id: ID!) { dashboard(id: $id) { id name description createdAt updatedAt widgetCount widgets { ${WIDGET} } } }`;

async function furnished(): Promise<{ a: Account; device: { id: string; token: string }; dashboards: string[] }> {
  const a = await signUp(ctx.base);
  const device = await addDevice(ctx.base, a, "greenhouse");
  const dashboards: string[] = [];
  for (const name of ["Home", "Garden"]) {
    const id = (await gql(ctx.base, `mutation { createDashboard(input: { name: "${name}" }) { id } }`, {}, a.accessToken)).data.createDashboard.id;
    dashboards.push(id);
    const widgets = [
      `a: createWidget(input: { dashboardId: "${id}", type: "gauge", label: "T", deviceId: "${device.id}", key: "t", config: { max: 40 } }) { id }`,
      `b: createWidget(input: { dashboardId: "${id}", type: "led", label: "Lamp", deviceId: "${device.id}" }) { id }`,
      `c: createWidget(input: { dashboardId: "${id}", type: "card", label: "Note" }) { id }`,
    ];
    expect((await gql(ctx.base, `mutation { ${widgets.join(" ")} }`, {}, a.accessToken)).errors).toBeUndefined();
  }
  return { a, device, dashboards };
}

describe("the dashboard tree", () => {
  it("answers as dashboard(id) does, with or without fragments, and with fresh values", async () => {
    const { a, device, dashboards } = await furnished();
    expect((await http(ctx.base, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { t: 21.5 } } })).status).toBe(200);
    const plain = await gql(ctx.base, PLAIN, {}, a.accessToken);
    expect(plain.errors).toBeUndefined();
    const tree = plain.data.dashboards;
    expect(tree.map((d: { name: string }) => d.name)).toEqual(["Home", "Garden"]);
    const one = await Promise.all(dashboards.map(async (id) => (await gql(ctx.base, ONE, { id }, a.accessToken)).data.dashboard));
    expect(tree).toEqual(one);
    expect((await gql(ctx.base, FRAGMENTS, {}, a.accessToken)).data.dashboards).toEqual(tree);

    const [gauge, lamp, card] = tree[0].widgets;
    expect(gauge).toMatchObject({ label: "T", value: 21.5, pending: false, config: { max: 40 }, device: { id: device.id, name: "greenhouse" } });
    expect(gauge.device.state.merged).toEqual({ t: 21.5 });
    expect(lamp).toMatchObject({ label: "Lamp", virtualPin: "v0", value: null, pending: false });
    expect(card).toMatchObject({ label: "Note", deviceId: null, device: null, value: null, pending: false });
    expect(tree[0].widgetCount).toBe(3);

    // A command and a new report show in the next read: nothing is kept between requests.
    expect((await gql(ctx.base, `mutation { setWidgetState(id: "${lamp.id}", state: 1) { value pending } }`, {}, a.accessToken)).data.setWidgetState).toEqual({
      value: 1,
      pending: true,
    });
    expect((await http(ctx.base, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { t: 22 } } })).status).toBe(200);
    const again = (await gql(ctx.base, `{ dashboards { widgets { label value pending } } }`, {}, a.accessToken)).data.dashboards[0].widgets;
    expect(again).toEqual([
      { label: "T", value: 22, pending: false },
      { label: "Lamp", value: 1, pending: true },
      { label: "Note", value: null, pending: false },
    ]);
  });

  it("shows another user none of it, and an empty account an empty list", async () => {
    await furnished();
    const b = await signUp(ctx.base);
    expect((await gql(ctx.base, PLAIN, {}, b.accessToken)).data.dashboards).toEqual([]);
  });
});
