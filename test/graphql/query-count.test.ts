import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statementsDuring } from "../helpers/statements.js";
import { addDevice, gql, signUp, type Account, type GqlResult } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let base: string;
beforeAll(async () => {
  // No background flush may land in a counted window.
  server = await startTestServer({ RATE_LIMIT_MAX: "100000", LAST_SEEN_FLUSH_SECONDS: "3600", OFFLINE_TIMEOUT: "7200" });
  base = server.url;
});
afterAll(() => server.stop());

const QUERY = `{ dashboards { widgets { device { state { merged } } } } }`;

/** An account with `dashboards` dashboards of 10 widgets each, spread over 4 devices. */
async function furnished(dashboards: number): Promise<Account> {
  const a = await signUp(base);
  const devices: string[] = [];
  for (let i = 0; i < 4; i++) devices.push((await addDevice(base, a, `d${i}`)).id);
  for (let d = 0; d < dashboards; d++) {
    const dash = await gql(base, `mutation { createDashboard(input: {name: "D${d}"}) { id } }`, {}, a.accessToken);
    const id = dash.data.createDashboard.id;
    const creations = Array.from({ length: 10 }, (_, w) => {
      const input = w % 2 === 0 ? `type: "led"` : `type: "gauge", key: "t"`;
      return `w${w}: createWidget(input: {dashboardId: "${id}", label: "W${w}", deviceId: "${devices[(d + w) % 4]}", ${input}}) { id }`;
    });
    const res = await gql(base, `mutation { ${creations.join(" ")} }`, {}, a.accessToken);
    expect(res.errors).toBeUndefined();
  }
  return a;
}

describe("query count", () => {
  it("dashboards → widgets → device → state costs a fixed number of statements, whatever the size", async () => {
    const small = await furnished(2);
    const large = await furnished(20);
    const counts: number[] = [];
    for (const [a, dashboards] of [
      [small, 2],
      [large, 20],
    ] as const) {
      let result: GqlResult | undefined;
      const statements = await statementsDuring(async () => (result = await gql(base, QUERY, {}, a.accessToken)));
      expect(result!.errors).toBeUndefined();
      expect(result!.data.dashboards).toHaveLength(dashboards);
      const widgets = result!.data.dashboards.flatMap((d: { widgets: unknown[] }) => d.widgets);
      expect(widgets).toHaveLength(dashboards * 10);
      expect(widgets.every((w: { device: { state: { merged: object } } }) => typeof w.device.state.merged === "object")).toBe(true);
      expect(statements.length, statements.join("\n")).toBeLessThanOrEqual(6);
      expect(statements.length).toBeGreaterThanOrEqual(3); // the wrapper does see TypeORM's statements
      counts.push(statements.length);
    }
    expect(counts[0]).toBe(counts[1]);
  });

  it("every other relation of a widget is batched too", async () => {
    const rich = `{ dashboards { widgetCount widgets { value pending nextSchedule { id } device { widgets { id } state { desired } } } } }`;
    const counts: number[] = [];
    for (const dashboards of [2, 20]) {
      const a = await furnished(dashboards);
      let result: GqlResult | undefined;
      const statements = await statementsDuring(async () => (result = await gql(base, rich, {}, a.accessToken)));
      expect(result!.errors).toBeUndefined();
      expect(result!.data.dashboards[0].widgets[0].device.widgets.length).toBe(dashboards === 2 ? 5 : 50);
      counts.push(statements.length);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeLessThanOrEqual(7); // dashboards, widgets, schedules, devices, device widgets, states
  });
});
