import { describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { ISO_RE } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const FIELDS = `id widgetId kind state executeAt label status result createdAt executedAt`;
const SCHEDULE = `mutation ($w: ID!, $s: JSON!, $t: DateTime!, $l: String) { createSchedule(widgetId: $w, state: $s, executeAt: $t, label: $l) { ${FIELDS} } }`;
const TIMER = `mutation ($w: ID!, $s: JSON!, $d: Int!, $l: String) { createTimer(widgetId: $w, state: $s, durationSeconds: $d, label: $l) { ${FIELDS} } }`;
const CANCEL = `mutation ($id: ID!) { cancelSchedule(id: $id) { id status result } }`;
const LIST = `query ($w: ID!) { schedules(widgetId: $w) { id kind status } }`;
const FOREIGN = "00000000-0000-4000-8000-000000000000";
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const HOUR = 3_600_000;

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
  return { a, led: await mk({ type: "led", label: "LED" }), gauge: await mk({ type: "gauge", label: "T", key: "t" }) };
}

const schedule = (a: Account, w: string, s: unknown, t: string, l?: string) => gql(ctx.base, SCHEDULE, { w, s, t, l }, a.accessToken);
const timer = (a: Account, w: string, s: unknown, d: number, l?: string) => gql(ctx.base, TIMER, { w, s, d, l }, a.accessToken);

describe("createSchedule and createTimer", () => {
  it("store a PENDING schedule with the normalized state, in the exact shape", async () => {
    const { a, led } = await setup();
    const at = new Date(Date.now() + HOUR);
    // An offset is accepted and answered in UTC.
    const local = new Date(at.getTime() + 2 * HOUR).toISOString().replace("Z", "+02:00");
    const res = await schedule(a, led, true, local, " Evening ");
    expect(res.data.createSchedule).toEqual({
      id: expect.any(String),
      widgetId: led,
      kind: "SCHEDULE",
      state: 1,
      executeAt: at.toISOString(),
      label: "Evening",
      status: "PENDING",
      result: null,
      createdAt: expect.stringMatching(ISO_RE),
      executedAt: null,
    });
    const before = Date.now();
    const t = (await timer(a, led, "0", 90)).data.createTimer;
    expect(t).toMatchObject({ kind: "TIMER", state: 0, label: null, status: "PENDING" });
    const due = Date.parse(t.executeAt) - before;
    expect(due).toBeGreaterThanOrEqual(90_000);
    expect(due).toBeLessThan(95_000);
  });

  it.each([
    ["in the past", () => inMs(-1000), "executeAt must be in the future"],
    ["more than a year ahead", () => inMs(367 * 24 * HOUR), "executeAt must be within one year"],
  ])("refuses executeAt %s", async (_what, at, message) => {
    const { a, led } = await setup();
    expect((await schedule(a, led, 1, at())).errors![0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
  });

  it("refuses a time without a zone", async () => {
    const { a, led } = await setup();
    const res = await schedule(a, led, 1, inMs(HOUR).replace("Z", ""));
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0]!.message).toContain("DateTime must be an ISO 8601 time with a zone");
  });

  it("refuses dates that do not exist instead of rolling them over, and takes 29 February of a leap year", async () => {
    const { a, led } = await setup();
    const year = new Date().getUTCFullYear() + 1;
    for (const at of [
      `${year}-02-30T10:00:00Z`,
      `${year}-04-31T10:00:00+02:00`,
      `${year}-13-01T10:00:00Z`,
      `${year}-06-01T24:00:00Z`,
      `${year}-06-01T10:60:00Z`,
    ]) {
      const res = await schedule(a, led, 1, at);
      expect(codeOf(res)).toBe("BAD_USER_INPUT");
      expect(res.errors![0]!.message).toBe(`DateTime "${at}" is not a real time`);
    }
    const leap = [year, year + 1, year + 2, year + 3].find((y) => new Date(Date.UTC(y, 1, 29)).getUTCMonth() === 1)!;
    if (leap <= year) expect((await schedule(a, led, 1, `${leap}-02-29T10:00:00Z`)).errors).toBeUndefined();
  });

  it.each([0, -5, 86_401])("refuses a timer of %i s", async (d) => {
    const { a, led } = await setup();
    expect((await timer(a, led, 1, d)).errors![0]).toMatchObject({ message: "durationSeconds must be 1 to 86400", extensions: { code: "BAD_USER_INPUT" } });
  });

  it("refuses a bad state, a non-output widget and a label over 100 characters", async () => {
    const { a, led, gauge } = await setup();
    for (const s of [2, "on", { v: 1 }]) {
      expect((await schedule(a, led, s, inMs(HOUR))).errors![0]).toMatchObject({
        message: "state must be 0, 1, true or false",
        extensions: { code: "BAD_USER_INPUT" },
      });
      expect(codeOf(await timer(a, led, s, 10))).toBe("BAD_USER_INPUT");
    }
    expect((await timer(a, gauge, 1, 10)).errors![0]).toMatchObject({
      message: "only output widgets (led) can be scheduled; this one is a gauge",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect((await timer(a, led, 1, 10, "l".repeat(101))).errors![0]).toMatchObject({ message: "label must be 1 to 100 characters" });
    expect((await gql(ctx.base, LIST, { w: led }, a.accessToken)).data.schedules).toEqual([]);
  });

  it("another user's, a missing or a malformed widget is NOT_FOUND, before the other arguments are checked", async () => {
    const { led } = await setup();
    const b = await signUp(ctx.base);
    for (const w of [led, FOREIGN, "nope"]) {
      expect(codeOf(await schedule(b, w, "bad", inMs(-HOUR)))).toBe("NOT_FOUND");
      expect(codeOf(await timer(b, w, 1, 0))).toBe("NOT_FOUND");
      expect(codeOf(await gql(ctx.base, LIST, { w }, b.accessToken))).toBe("NOT_FOUND");
    }
  });
});

describe("listing, nextSchedule and cancelSchedule", () => {
  it("lists soonest first; nextSchedule is the earliest pending one", async () => {
    const { a, led, gauge } = await setup();
    const later = (await schedule(a, led, 1, inMs(5 * HOUR))).data.createSchedule.id;
    const soon = (await timer(a, led, 0, 60)).data.createTimer.id;
    const middle = (await schedule(a, led, 1, inMs(2 * HOUR))).data.createSchedule.id;
    expect((await gql(ctx.base, LIST, { w: led }, a.accessToken)).data.schedules.map((s: { id: string }) => s.id)).toEqual([soon, middle, later]);
    const next = async (w: string) =>
      (await gql(ctx.base, `query ($w: ID!) { widget(id: $w) { nextSchedule { id kind } } }`, { w }, a.accessToken)).data.widget.nextSchedule;
    expect(await next(led)).toEqual({ id: soon, kind: "TIMER" });
    expect(await next(gauge)).toBeNull();
    await gql(ctx.base, CANCEL, { id: soon }, a.accessToken);
    expect(await next(led)).toEqual({ id: middle, kind: "SCHEDULE" });
    expect((await gql(ctx.base, LIST, { w: led }, a.accessToken)).data.schedules[0]).toEqual({ id: soon, kind: "TIMER", status: "CANCELLED" });
  });

  it("cancels a pending schedule once; cancelling again, or an executed one, is CONFLICT", async () => {
    const { a, led } = await setup();
    const id = (await timer(a, led, 1, 600)).data.createTimer.id;
    expect((await gql(ctx.base, CANCEL, { id }, a.accessToken)).data.cancelSchedule).toEqual({ id, status: "CANCELLED", result: "cancelled by the user" });
    expect((await gql(ctx.base, CANCEL, { id }, a.accessToken)).errors![0]).toMatchObject({
      message: "only a pending schedule can be cancelled; this one is CANCELLED",
      extensions: { code: "CONFLICT" },
    });
    const done = (await timer(a, led, 1, 600)).data.createTimer.id;
    await ctx.server.services.pool.query(`UPDATE schedules SET status = 'EXECUTED', executed_at = now() WHERE id = $1`, [done]);
    expect(codeOf(await gql(ctx.base, CANCEL, { id: done }, a.accessToken))).toBe("CONFLICT");
  });

  it("another user's, a missing or a malformed schedule is NOT_FOUND and stays pending", async () => {
    const { a, led } = await setup();
    const b = await signUp(ctx.base);
    const id = (await timer(a, led, 1, 600)).data.createTimer.id;
    for (const s of [id, FOREIGN, "x"]) expect(codeOf(await gql(ctx.base, CANCEL, { id: s }, b.accessToken))).toBe("NOT_FOUND");
    expect((await gql(ctx.base, LIST, { w: led }, a.accessToken)).data.schedules).toEqual([{ id, kind: "TIMER", status: "PENDING" }]);
  });

  it("deleting the widget deletes its schedules", async () => {
    const { a, led } = await setup();
    const id = (await timer(a, led, 1, 600)).data.createTimer.id;
    await gql(ctx.base, `mutation ($id: ID!) { deleteWidget(id: $id) }`, { id: led }, a.accessToken);
    expect((await ctx.server.services.pool.query(`SELECT 1 FROM schedules WHERE id = $1`, [id])).rowCount).toBe(0);
    expect(codeOf(await gql(ctx.base, CANCEL, { id }, a.accessToken))).toBe("NOT_FOUND");
  });
});
