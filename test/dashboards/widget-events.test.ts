import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { statementsDuring } from "../helpers/statements.js";
import { subscribe } from "../helpers/ws.js";

let server: TestServer;
let base: string;
let alice: Account;
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  base = server.url;
  alice = await signUp(base);
});
afterAll(() => server.stop());

const EVENT = `subscription ($d: ID) { widgetUpdated(dashboardId: $d) { dashboardId deleted widget { id label type value pending order device { id name } } } }`;

async function dashboard(a: Account) {
  return (await gql(base, `mutation { createDashboard(input: {name: "Home"}) { id } }`, {}, a.accessToken)).data.createDashboard.id as string;
}
async function widget(a: Account, dashboardId: string, input: object) {
  const res = await gql(base, `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id } }`, { i: { dashboardId, ...input } }, a.accessToken);
  return res.data.createWidget.id as string;
}

describe("widgetUpdated", () => {
  it("follows creation, value changes from telemetry, commands, layout and deletion", async () => {
    const d = await addDevice(base, alice);
    const dash = await dashboard(alice);
    const live = await subscribe(base, alice.accessToken, EVENT, { d: dash });
    const temp = await widget(alice, dash, { type: "gauge", label: "Temp", deviceId: d.id, key: "temperature" });
    expect((await live.next()).widgetUpdated).toMatchObject({ dashboardId: dash, deleted: false, widget: { id: temp, label: "Temp", value: null, order: 0 } });

    await http(base, "POST", `/telemetry`, { body: { device_token: d.token, data: { temperature: 22.5 } } });
    expect((await live.next()).widgetUpdated.widget).toMatchObject({ id: temp, value: 22.5, device: { id: d.id, name: "esp32" } });

    const lamp = await widget(alice, dash, { type: "led", label: "Lamp", deviceId: d.id });
    expect((await live.next()).widgetUpdated.widget).toMatchObject({ id: lamp, order: 1 });
    await gql(base, `mutation ($id: ID!) { setWidgetState(id: $id, state: 1) { id } }`, { id: lamp }, alice.accessToken);
    const commanded = [(await live.next()).widgetUpdated, (await live.next()).widgetUpdated];
    expect(commanded.find((e) => e.widget.id === lamp).widget).toMatchObject({ value: 1, pending: true });

    await gql(
      base,
      `mutation ($id: ID!, $l: [WidgetLayoutInput!]!) { updateDashboardLayout(id: $id, layout: $l) { id } }`,
      { id: dash, l: [{ widgetId: lamp }] },
      alice.accessToken,
    );
    const moved = [(await live.next()).widgetUpdated, (await live.next()).widgetUpdated];
    expect(Object.fromEntries(moved.map((e) => [e.widget.id, e.widget.order]))).toEqual({ [lamp]: 0, [temp]: 1 });

    await gql(base, `mutation ($id: ID!) { deleteWidget(id: $id) }`, { id: temp }, alice.accessToken);
    expect((await live.next()).widgetUpdated).toMatchObject({ deleted: true, widget: { id: temp, label: "Temp" } });
    await live.dispose();
  });

  it("refuses another user's dashboard and never shows another user's widgets", async () => {
    const bob = await signUp(base);
    const bobsDash = await dashboard(bob);
    const refused = await subscribe(base, alice.accessToken, EVENT, { d: bobsDash });
    expect((await refused.error)[0]).toMatchObject({ extensions: { code: "NOT_FOUND" } });
    const mine = await subscribe(base, alice.accessToken, EVENT, {});
    const bd = await addDevice(base, bob);
    await widget(bob, bobsDash, { type: "card", label: "Bob's", deviceId: bd.id, key: "t" });
    await http(base, "POST", `/devices/${bd.id}/telemetry`, { body: { device_token: bd.token, data: { t: 1 } } });
    await sleep(300);
    expect(mine.events).toEqual([]);
    await Promise.all([refused.dispose(), mine.dispose()]);
  });

  it("delivers one event to many subscribers with a constant number of queries", async () => {
    const a = await signUp(base);
    const d = await addDevice(base, a);
    const dash = await dashboard(a);
    for (let i = 0; i < 5; i++) await widget(a, dash, { type: "gauge", label: `W${i}`, deviceId: d.id, key: "t" });
    const count = async (subscribers: number) => {
      const lives = await Promise.all(Array.from({ length: subscribers }, () => subscribe(base, a.accessToken, EVENT, { d: dash })));
      await http(base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { t: subscribers } } }); // warm
      await Promise.all(
        lives.map(async (l) => {
          for (let i = 0; i < 5; i++) await l.next(10_000);
        }),
      );
      await sleep(500); // the device's first contact: its online notification is not the event's work
      const statements = await statementsDuring(async () => {
        await http(base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { t: subscribers + 1 } } });
        await Promise.all(
          lives.map(async (l) => {
            for (let i = 0; i < 5; i++) expect((await l.next(10_000)).widgetUpdated.widget.value).toBe(subscribers + 1);
          }),
        );
      });
      await Promise.all(lives.map((l) => l.dispose()));
      // Left out: the periodic last-seen flush, and the webhook matcher's lookup (cached for a second,
      // so it lands in one window or the other): neither depends on the number of subscribers.
      return statements.filter((s) => !/last_seen_at|FROM webhooks/.test(s));
    };
    const one = await count(1);
    const many = await count(25);
    // The report's own statements plus one shared load, whatever the audience.
    expect(many.length, many.join("\n")).toBe(one.length);
    expect(many.length).toBeLessThanOrEqual(8);
  });
});
