import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { http, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/fixture.js";
import { subscribe } from "../helpers/ws.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
});
afterAll(() => server.stop());

async function ledWidget(base: string, a: Account) {
  const device = await addDevice(base, a);
  const dash = await gql(base, `mutation { createDashboard(input: {name: "D"}) { id } }`, {}, a.accessToken);
  const widget = await gql(
    base,
    `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id virtualPin } }`,
    { i: { dashboardId: dash.data.createDashboard.id, deviceId: device.id, type: "led", label: "Lamp" } },
    a.accessToken,
  );
  return { device, widgetId: widget.data.createWidget.id as string };
}

const TIMER = `mutation ($w: ID!, $d: Int!) { createTimer(widgetId: $w, state: 1, durationSeconds: $d, label: "lamp on") { id executeAt status } }`;
const SCHEDULE = `query ($w: ID!) { schedules(widgetId: $w) { id status result executedAt executeAt } }`;

const notificationsOf = async (s: TestServer, userId: string, type = "schedule_executed") =>
  (await s.services.pool.query(`SELECT title, message, data FROM notifications WHERE user_id = $1 AND type = $2`, [userId, type])).rows;

describe("schedules and timers run", () => {
  it("a timer fires on time, sets the widget's pin through the control path and notifies the user", async () => {
    const a = await signUp(server.url);
    const { device, widgetId } = await ledWidget(server.url, a);
    const live = await subscribe(server.url, a.accessToken, `subscription { notificationAdded { type title message } }`);
    const created = (await gql(server.url, TIMER, { w: widgetId, d: 1 }, a.accessToken)).data.createTimer;
    const notification = (await live.next(5000)).notificationAdded;
    expect(notification).toEqual({ type: "schedule_executed", title: '"lamp on" ran', message: "Lamp: set v0 to 1" });
    const [row] = (await gql(server.url, SCHEDULE, { w: widgetId }, a.accessToken)).data.schedules;
    expect(row).toMatchObject({ id: created.id, status: "EXECUTED", result: "set v0 to 1" });
    const lateness = Date.parse(row.executedAt) - Date.parse(created.executeAt);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(1000); // on time: within a second
    const polled = await http(server.url, "GET", `/telemetry/latest?device_token=${device.token}`);
    expect(polled.body.data).toEqual({ v0: 1 });
    await live.dispose();
  });

  it("a cancelled schedule never runs", async () => {
    const a = await signUp(server.url);
    const { device, widgetId } = await ledWidget(server.url, a);
    const created = (await gql(server.url, TIMER, { w: widgetId, d: 1 }, a.accessToken)).data.createTimer;
    await gql(server.url, `mutation ($id: ID!) { cancelSchedule(id: $id) { status } }`, { id: created.id }, a.accessToken);
    await sleep(1800);
    expect((await http(server.url, "GET", `/telemetry/latest?device_token=${device.token}`)).body.data).toEqual({});
    expect(await notificationsOf(server, a.userId)).toEqual([]);
  });

  it("a schedule that cannot be applied is recorded as FAILED with a reason", async () => {
    const a = await signUp(server.url);
    const { widgetId } = await ledWidget(server.url, a);
    const created = (await gql(server.url, TIMER, { w: widgetId, d: 1 }, a.accessToken)).data.createTimer;
    // Corrupt the stored state behind the API's back: the runner must refuse it, not apply it.
    await server.services.pool.query(`UPDATE schedules SET state = '"blink"' WHERE id = $1`, [created.id]);
    const row = await eventually("the schedule run", async () => {
      const rows = (await gql(server.url, SCHEDULE, { w: widgetId }, a.accessToken)).data.schedules;
      return rows[0].status === "PENDING" ? undefined : rows[0];
    });
    expect(row).toMatchObject({ status: "FAILED", result: "state must be 0, 1, true or false" });
    expect(await notificationsOf(server, a.userId, "schedule_failed")).toHaveLength(1);
  });

  it("survives a restart: created, server stopped before it is due, a new server runs it once", async () => {
    const first = await startTestServer({}, server.databaseUrl);
    const a = await signUp(first.url);
    const { device, widgetId } = await ledWidget(first.url, a);
    await gql(first.url, TIMER, { w: widgetId, d: 2 }, a.accessToken);
    await first.close();
    await sleep(2500); // due while no server runs
    const second = await startTestServer({}, server.databaseUrl);
    try {
      await eventually("the notification", async () => (await notificationsOf(second, a.userId)).length > 0);
      await sleep(1000);
      expect(await notificationsOf(second, a.userId)).toHaveLength(1);
      expect((await http(second.url, "GET", `/telemetry/latest?device_token=${device.token}`)).body.data).toEqual({ v0: 1 });
    } finally {
      await second.close();
    }
  });

  it("fires once with two processes sharing the database", async () => {
    const other = await startTestServer({}, server.databaseUrl);
    try {
      const a = await signUp(server.url);
      const { widgetId } = await ledWidget(server.url, a);
      for (let i = 0; i < 5; i++) await gql(other.url, TIMER, { w: widgetId, d: 1 }, a.accessToken);
      await eventually("the notification", async () => (await notificationsOf(server, a.userId)).length >= 5);
      await sleep(1500);
      expect(await notificationsOf(server, a.userId)).toHaveLength(5);
      const { rows } = await server.services.pool.query(`SELECT count(*)::int AS n FROM schedules WHERE owner_id = $1 AND status = 'EXECUTED'`, [a.userId]);
      expect(rows[0].n).toBe(5);
    } finally {
      await other.close();
    }
  });
});

describe("device status notifications", () => {
  it("notify online and offline once per cooldown, even when the device flaps", async () => {
    const s = await startTestServer({ OFFLINE_TIMEOUT: "2", LAST_SEEN_FLUSH_SECONDS: "1", STATUS_ALERT_COOLDOWN_SECONDS: "60" });
    try {
      const a = await signUp(s.url);
      const d = await addDevice(s.url, a);
      const poll = () => http(s.url, "GET", `/telemetry/latest?device_token=${d.token}`);
      await poll();
      await eventually("the notification", async () => (await notificationsOf(s, a.userId, "device_online")).length > 0);
      await eventually("the notification", async () => (await notificationsOf(s, a.userId, "device_offline")).length > 0, 10_000);
      await poll(); // back online within the cooldown: no second "online"
      await sleep(500);
      expect(await notificationsOf(s, a.userId, "device_online")).toHaveLength(1);
      expect((await notificationsOf(s, a.userId, "device_offline"))[0]).toMatchObject({
        title: "esp32 is offline",
        data: { deviceId: d.id, status: "offline" },
      });
    } finally {
      await s.stop();
    }
  }, 30_000);
});
