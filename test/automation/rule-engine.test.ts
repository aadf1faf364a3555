import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RuleOp } from "../../src/entities/rule.entity.js";
import { changed, checkOperand, describeCondition, holds } from "../../src/services/automation/rules/rule-condition.js";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { createTestDatabase, http, pg, sleep, startTestServer } from "../helpers/server.js";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000", WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32" });

type Device = { id: string; token: string };

async function report(device: Device, data: Record<string, unknown>, s = ctx.server): Promise<void> {
  const res = await http(s.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data } });
  expect(res.status).toBe(200);
}
/** Every report answered so far is evaluated and its writes and actions are done. */
const settle = (s = ctx.server) => s.services.ruleEngine.idle();
async function reports(device: Device, key: string, values: unknown[], s = ctx.server): Promise<void> {
  for (const value of values) {
    await report(device, { [key]: value }, s);
    await settle(s);
  }
}
const latest = async (device: Device, s = ctx.server) => (await http(s.url, "GET", `/telemetry/latest?device_token=${device.token}`)).body.data;

async function rule(a: Account, input: Record<string, unknown>, s = ctx.server): Promise<string> {
  const res = await gql(
    s.url,
    `mutation ($i: CreateRuleInput!) { createRule(input: $i) { id } }`,
    { i: { name: "r", action: { type: "NOTIFY" }, ...input } },
    a.accessToken,
  );
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.createRule.id;
}
const ruleOf = async (a: Account, id: string, s = ctx.server) =>
  (await gql(s.url, `query ($id: ID!) { rule(id: $id) { enabled active lastFiredAt suspendedAt suspendedReason } }`, { id }, a.accessToken)).data.rule;
/** Notifications of a type, oldest first, optionally of one rule. */
async function notes(a: Account, type = "rule_fired", ruleId?: string, s = ctx.server) {
  const { rows } = await s.services.pool.query(
    `SELECT title, message, data FROM notifications WHERE user_id = $1 AND type = $2 AND ($3::text IS NULL OR data->>'ruleId' = $3) ORDER BY created_at, id`,
    [a.userId, type, ruleId ?? null],
  );
  return rows;
}
const firings = async (a: Account, ruleId: string, s = ctx.server) => (await notes(a, "rule_fired", ruleId, s)).length;

describe("the comparator", () => {
  it("compares numbers numerically, booleans as 1/0, never coerces strings", () => {
    expect([holds(RuleOp.GT, 31, 30), holds(RuleOp.GT, 30, 30), holds(RuleOp.GTE, 30, 30), holds(RuleOp.LT, -1, 0), holds(RuleOp.LTE, 0.1, 0.1)]).toEqual([
      true,
      false,
      true,
      true,
      true,
    ]);
    expect([
      holds(RuleOp.GT, true, 0),
      holds(RuleOp.LT, false, 1),
      holds(RuleOp.GT, "31", 30),
      holds(RuleOp.GT, null, 30),
      holds(RuleOp.GT, { a: 31 }, 30),
    ]).toEqual([true, true, false, false, false]);
  });

  it("== and != follow the device-state model: 1 equals true, strings exactly", () => {
    expect([
      holds(RuleOp.EQ, 1, true),
      holds(RuleOp.EQ, false, 0),
      holds(RuleOp.EQ, "on", "on"),
      holds(RuleOp.EQ, "ON", "on"),
      holds(RuleOp.EQ, "1", 1),
    ]).toEqual([true, true, true, false, false]);
    expect([holds(RuleOp.NEQ, 0, true), holds(RuleOp.NEQ, 1, true), holds(RuleOp.NEQ, null, "x")]).toEqual([true, false, true]);
  });

  it("changed needs a previous value that differs", () => {
    expect([changed(undefined, 1), changed(1, 1), changed(1, true), changed(1, 2), changed(null, 0), changed("a", "b")]).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(holds(RuleOp.CHANGED, 1, null)).toBe(false);
  });

  it("checks operands and describes conditions", () => {
    expect(checkOperand(RuleOp.GT, 2.5, 10)).toBe(2.5);
    expect(() => checkOperand(RuleOp.GT, Number.NaN, 10)).toThrow("value must be a number for GT");
    expect(checkOperand(RuleOp.CHANGED, undefined, 10)).toBeNull();
    expect(describeCondition("t", RuleOp.GTE, 30, 0)).toBe("t >= 30");
    expect(describeCondition("mode", RuleOp.EQ, "on", 60)).toBe('mode == "on" for 60 s');
    expect(describeCondition("v0", RuleOp.CHANGED, null, 0)).toBe("v0 changed");
  });
});

describe("evaluation on ingest", () => {
  it("each operator fires on entering its condition", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const ops = [
      ["GT", 30],
      ["GTE", 30],
      ["LT", 30],
      ["LTE", 30],
      ["EQ", 30],
      ["NEQ", 30],
      ["CHANGED", null],
    ] as const;
    const ids = await Promise.all(ops.map(([op, value]) => rule(a, { deviceId: d.id, key: "t", op, value })));
    await reports(d, "t", [20, 31, 35, 29, 30, 31]);
    const counts = Object.fromEntries(await Promise.all(ops.map(async ([op], i) => [op, await firings(a, ids[i]!)])));
    // GT: 31 (enter), 30 leaves, 31. GTE: 31, 29 leaves, 30. LT: 20, 31 leaves, 29. LTE: 20, 31 leaves, 29.
    // EQ: 30. NEQ: 20, 30 leaves, 31. CHANGED: every report after the first.
    expect(counts).toEqual({ GT: 2, GTE: 2, LT: 2, LTE: 2, EQ: 1, NEQ: 2, CHANGED: 5 });
  });

  it("booleans and strings: 1 equals true, strings exactly, ordering never matches a string", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const isOn = await rule(a, { deviceId: d.id, key: "v0", op: "EQ", value: true });
    const mode = await rule(a, { deviceId: d.id, key: "mode", op: "EQ", value: "on" });
    const over = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30 });
    await reports(d, "v0", [0, 1, true, false, "1", true]);
    await reports(d, "mode", ["off", "on", "ON", "on"]);
    await reports(d, "t", ["31", "40", null, 31]);
    expect([await firings(a, isOn), await firings(a, mode), await firings(a, over)]).toEqual([2, 2, 1]);
  });

  it("hysteresis: 20, 31, 32, 33, 29, 31 with > 30 fire twice; the notification says what happened", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a, "Greenhouse");
    const id = await rule(a, { name: "Too hot", deviceId: d.id, key: "temperature", op: "GT", value: 30 });
    await reports(d, "temperature", [20, 31, 32, 33]);
    expect((await ruleOf(a, id)).active).toBe(true);
    await reports(d, "temperature", [29]);
    expect((await ruleOf(a, id)).active).toBe(false);
    await reports(d, "temperature", [31]);
    const fired = await notes(a, "rule_fired", id);
    expect(fired).toHaveLength(2);
    expect(fired[0]).toEqual({
      title: 'Rule "Too hot" fired',
      message: "Greenhouse: temperature > 30 (now 31)",
      data: { ruleId: id, ruleName: "Too hot", deviceId: d.id, key: "temperature", op: "GT", threshold: 30, value: 31, condition: "temperature > 30" },
    });
    expect(fired[1].data.value).toBe(31);
    const after = await ruleOf(a, id);
    expect(after).toMatchObject({ enabled: true, active: true, suspendedAt: null });
    expect(Date.now() - Date.parse(after.lastFiredAt)).toBeLessThan(5000);
    // The app sees it like any other notification.
    const listed = await gql(ctx.base, `{ notifications(first: 5) { edges { node { type title message } } } }`, {}, a.accessToken);
    expect(listed.data.notifications.edges.map((e: any) => e.node)).toContainEqual({
      type: "rule_fired",
      title: 'Rule "Too hot" fired',
      message: "Greenhouse: temperature > 30 (now 31)",
    });
  });

  it("repeated values change nothing, in or out of the condition", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const over = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30 });
    const moved = await rule(a, { deviceId: d.id, key: "t", op: "CHANGED" });
    await reports(d, "t", [20, 20, 31, 31, 31, 29, 29, 31, 31]);
    expect([await firings(a, over), await firings(a, moved)]).toEqual([2, 3]);
  });

  it("a report without the key, or a partial report, leaves the rule as it is", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const id = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30, action: { type: "NOTIFY", message: "custom text" } });
    await reports(d, "t", [31]);
    await report(d, { humidity: 50 });
    await settle();
    await reports(d, "t", [32]);
    expect(await notes(a, "rule_fired", id)).toMatchObject([{ message: "custom text" }]);
    expect((await ruleOf(a, id)).active).toBe(true);
  });

  it("a disabled rule does nothing; enabling it re-arms it", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const id = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30, enabled: false });
    await reports(d, "t", [31, 20, 35]);
    expect(await firings(a, id)).toBe(0);
    await gql(ctx.base, `mutation ($id: ID!) { updateRule(id: $id, input: {enabled: true}) { id } }`, { id }, a.accessToken);
    await reports(d, "t", [36]);
    expect(await firings(a, id)).toBe(1);
    // A changed threshold takes effect at the next report (the cache of the device's rules is dropped).
    await gql(ctx.base, `mutation ($id: ID!) { updateRule(id: $id, input: {value: 50}) { id } }`, { id }, a.accessToken);
    await reports(d, "t", [40, 51]);
    expect(await firings(a, id)).toBe(2);
    await gql(ctx.base, `mutation ($id: ID!) { deleteRule(id: $id) }`, { id }, a.accessToken);
    await reports(d, "t", [10, 60]);
    expect(await firings(a, id)).toBe(2);
  });

  it("for S seconds: fires once after S when the condition holds, not when it drops earlier", async () => {
    const a = await signUp(ctx.base);
    const held = await addDevice(ctx.base, a);
    const dropped = await addDevice(ctx.base, a);
    const holds1 = await rule(a, { deviceId: held.id, key: "t", op: "GT", value: 30, forSeconds: 1 });
    const drops = await rule(a, { deviceId: dropped.id, key: "t", op: "GT", value: 30, forSeconds: 1 });
    const started = Date.now();
    await reports(held, "t", [31]);
    await reports(dropped, "t", [31]);
    expect((await ruleOf(a, holds1)).active).toBe(true);
    await reports(held, "t", [32, 33]); // still in the condition: the timer is not restarted
    await sleep(300);
    await reports(dropped, "t", [29]);
    expect(await firings(a, holds1)).toBe(0);
    await eventually("one firing", async () => (await firings(a, holds1)) === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(3000);
    const [note] = await notes(a, "rule_fired", holds1);
    expect(note).toMatchObject({ message: "esp32: t > 30 for 1 s (now 33)", data: { condition: "t > 30 for 1 s", value: 33 } });
    await sleep(1200);
    expect(await firings(a, holds1)).toBe(1);
    expect(await firings(a, drops)).toBe(0);
    const pending = await ctx.server.services.pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key IN ($1, $2)`, [
      `rule:${holds1}`,
      `rule:${drops}`,
    ]);
    expect(pending.rows[0].n).toBe(0);
  });

  it("SET_STATE commands the target through the app's command path: the device gets it from GET /telemetry/latest", async () => {
    const a = await signUp(ctx.base);
    const sensor = await addDevice(ctx.base, a, "sensor");
    const lamp = await addDevice(ctx.base, a, "lamp");
    await report(lamp, { v0: 0 });
    await rule(a, { deviceId: sensor.id, key: "lux", op: "LT", value: 100, action: { type: "SET_STATE", deviceId: lamp.id, key: "v0", value: 1 } });
    await reports(sensor, "lux", [500, 80]);
    expect(await latest(lamp)).toEqual({ v0: 1 });
    const state = await gql(ctx.base, `query ($id: ID!) { device(id: $id) { state { reported desired } } }`, { id: lamp.id }, a.accessToken);
    expect(state.data.device.state).toEqual({ reported: { v0: 0 }, desired: { v0: 1 } });
    // The lamp confirms; nothing more happens while the sensor stays dark.
    await report(lamp, { v0: 1 });
    await reports(sensor, "lux", [70, 60]);
    expect(
      (await gql(ctx.base, `query ($id: ID!) { device(id: $id) { state { desired } } }`, { id: lamp.id }, a.accessToken)).data.device.state.desired,
    ).toEqual({});
  });

  it("WEBHOOK posts a signed rule_fired delivery to that webhook only, whatever events it subscribed to", async () => {
    const receiver = await new WebhookReceiver().start();
    const received = receiver.received;
    try {
      const url = receiver.base;
      const a = await signUp(ctx.base);
      const d = await addDevice(ctx.base, a, "Boiler");
      const create = (path: string, events: string) =>
        gql(ctx.base, `mutation { createWebhook(input: {url: "${url}${path}", events: [${events}]}) { secret webhook { id } } }`, {}, a.accessToken);
      const target = (await create("/rule", "device_offline")).data.createWebhook;
      await create("/other", "device_offline"); // another webhook of the same user gets nothing
      const id = await rule(a, {
        name: "Pressure",
        deviceId: d.id,
        key: "bar",
        op: "GTE",
        value: 3,
        action: { type: "WEBHOOK", webhookId: target.webhook.id },
      });
      await reports(d, "bar", [2.5, 3.2]);
      await eventually("the delivery", () => received.length > 0);
      await sleep(300);
      expect(received).toHaveLength(1);
      const [delivery] = received;
      expect(delivery!.path).toBe("/rule");
      expect(delivery!.headers["x-webhook-signature"]).toBe(`sha256=${createHmac("sha256", target.secret).update(delivery!.body).digest("hex")}`);
      expect(JSON.parse(delivery!.body)).toEqual({
        id: expect.any(String),
        event: "rule_fired",
        timestamp: expect.any(String),
        data: { ruleId: id, ruleName: "Pressure", deviceId: d.id, key: "bar", op: "GTE", threshold: 3, value: 3.2, condition: "bar >= 3" },
      });
    } finally {
      await receiver.close();
    }
  });
});

describe("loop protection", () => {
  /** Firmware in a loop: poll, apply what it is told, report it. */
  async function runDevice(device: Device, rounds: number, own?: (round: number) => Record<string, unknown> | undefined): Promise<unknown[]> {
    const seen: unknown[] = [];
    for (let i = 0; i < rounds; i++) {
      const data = await latest(device);
      seen.push(data.v0);
      await report(device, own?.(i) ?? data);
      await settle();
    }
    return seen;
  }

  it("two rules toggling their own trigger key through the device stop after a chain of 8 firings", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const off = await rule(a, {
      name: "off",
      deviceId: d.id,
      key: "v0",
      op: "EQ",
      value: 1,
      action: { type: "SET_STATE", deviceId: d.id, key: "v0", value: 0 },
    });
    const on = await rule(a, { name: "on", deviceId: d.id, key: "v0", op: "EQ", value: 0, action: { type: "SET_STATE", deviceId: d.id, key: "v0", value: 1 } });
    await reports(d, "v0", [1]);
    const seen = await runDevice(d, 30);
    // It toggled, then stopped: the last rounds all see one value.
    expect(seen.slice(0, 8)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(new Set(seen.slice(8))).toEqual(new Set([seen[8]]));
    const { rows } = await ctx.server.services.pool.query(
      `SELECT name, enabled, window_count, suspended_reason FROM rules WHERE id IN ($1, $2) ORDER BY name`,
      [off, on],
    );
    expect(rows.reduce((n, r) => n + r.window_count, 0)).toBe(8);
    const suspended = rows.filter((r) => !r.enabled);
    expect(suspended).toHaveLength(1);
    expect(suspended[0].suspended_reason).toBe("it was triggered by a chain of 8 rule actions, each caused by the one before");
    const [note] = await notes(a, "rule_suspended");
    expect(note).toMatchObject({
      title: `Rule "${suspended[0].name}" was suspended`,
      message:
        "it was triggered by a chain of 8 rule actions, each caused by the one before. Loop protection disabled it; enable it again once its action no longer triggers it.",
    });
    const desired = await gql(ctx.base, `query ($id: ID!) { device(id: $id) { state { desired } } }`, { id: d.id }, a.accessToken);
    expect(desired.data.device.state.desired).toEqual({});
  });

  it("a chain across two devices is cut the same way", async () => {
    const a = await signUp(ctx.base);
    const [d1, d2] = [await addDevice(ctx.base, a, "one"), await addDevice(ctx.base, a, "two")];
    const set = (device: Device, value: number) => ({ type: "SET_STATE", deviceId: device.id, key: "v0", value });
    await rule(a, { deviceId: d1.id, key: "v0", op: "EQ", value: 1, action: set(d2, 1) });
    await rule(a, { deviceId: d2.id, key: "v0", op: "EQ", value: 1, action: set(d1, 0) });
    await rule(a, { deviceId: d1.id, key: "v0", op: "EQ", value: 0, action: set(d2, 0) });
    await rule(a, { deviceId: d2.id, key: "v0", op: "EQ", value: 0, action: set(d1, 1) });
    await reports(d2, "v0", [0]); // "two off: one on" fires and starts the chain
    for (let i = 0; i < 20; i++) {
      for (const device of [d1, d2]) {
        await report(device, await latest(device));
        await settle();
      }
    }
    const { rows } = await ctx.server.services.pool.query(
      `SELECT sum(window_count)::int AS fired, count(*) FILTER (WHERE NOT enabled)::int AS suspended FROM rules WHERE owner_id = $1`,
      [a.userId],
    );
    expect(rows[0]).toEqual({ fired: 8, suspended: 1 });
  });

  it("a rule that switches its own trigger off while the device keeps switching it on is suspended after 10 firings in a minute", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const id = await rule(a, { deviceId: d.id, key: "v0", op: "EQ", value: 1, action: { type: "SET_STATE", deviceId: d.id, key: "v0", value: 0 } });
    // The device's own reports (a stuck button) start no chain: every one is depth 0.
    const seen = await runDevice(d, 40, (round) => (round % 2 === 0 ? { v0: 1 } : undefined));
    expect(seen.filter((v) => v === 0).length).toBeGreaterThanOrEqual(10);
    const { rows } = await ctx.server.services.pool.query(`SELECT enabled, window_count, suspended_reason FROM rules WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ enabled: false, window_count: 11, suspended_reason: "it fired more than 10 times within a minute" });
    expect(await notes(a, "rule_suspended")).toHaveLength(1);
    const state = await ruleOf(a, id);
    expect(state).toMatchObject({
      enabled: false,
      active: false,
      suspendedReason: "it fired more than 10 times within a minute",
      suspendedAt: expect.any(String),
    });
    // Enabling it again lifts the suspension and starts a new count.
    const lifted = await gql(
      ctx.base,
      `mutation ($id: ID!) { updateRule(id: $id, input: {enabled: true}) { enabled suspendedAt suspendedReason } }`,
      { id },
      a.accessToken,
    );
    expect(lifted.data.updateRule).toEqual({ enabled: true, suspendedAt: null, suspendedReason: null });
    await reports(d, "v0", [1]);
    expect((await ctx.server.services.pool.query(`SELECT window_count FROM rules WHERE id = $1`, [id])).rows[0].window_count).toBe(1);
  });
});

describe("robustness", () => {
  it("rules survive a restart: loaded from the database with their state; a pending for-S job still fires once", async () => {
    const db = await createTestDatabase();
    try {
      let s = await startTestServer({}, db.url);
      const a = await signUp(s.url);
      const d = await addDevice(s.url, a);
      const hot = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30 }, s);
      const moved = await rule(a, { deviceId: d.id, key: "pos", op: "CHANGED" }, s);
      const slow = await rule(a, { deviceId: d.id, key: "h", op: "GT", value: 80, forSeconds: 2 }, s);
      await reports(d, "t", [31], s);
      await reports(d, "pos", ["a"], s);
      await reports(d, "h", [90], s);
      await s.stop();

      s = await startTestServer({}, db.url);
      await reports(d, "t", [32], s); // still active from before the restart: no new firing
      await reports(d, "pos", ["b"], s); // the previous value comes from history
      expect([await firings(a, hot, s), await firings(a, moved, s)]).toEqual([1, 1]);
      await reports(d, "t", [29, 31], s);
      expect(await firings(a, hot, s)).toBe(2);
      await eventually("one firing", async () => (await firings(a, slow, s)) === 1);
      await sleep(500);
      expect(await firings(a, slow, s)).toBe(1);
      await s.stop();
    } finally {
      await db.drop();
    }
  });

  it("two processes sharing PostgreSQL and Redis: rule changes and transitions reach the other's cache; a transition fires once", async () => {
    const env = { RATE_LIMIT_MAX: "100000", REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
    const one = await startTestServer(env);
    const two = await startTestServer(env, one.databaseUrl);
    try {
      const a = await signUp(one.url);
      const d = await addDevice(one.url, a);
      await reports(d, "t", [20], two); // two caches "no rules" for d
      const id = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30 }, one);
      await sleep(100); // RulesChanged travels through Redis
      await reports(d, "t", [31], two);
      await sleep(100);
      await reports(d, "t", [32], one); // one reads the rule already active: no second firing
      await sleep(100);
      await reports(d, "t", [29], two);
      await sleep(100);
      await reports(d, "t", [33], one);
      // Both see the same report at once: the conditional UPDATE lets one of them fire.
      await sleep(100);
      await reports(d, "t", [10], one);
      await sleep(100);
      await Promise.all([report(d, { t: 40 }, one), report(d, { t: 41 }, two)]);
      await Promise.all([settle(one), settle(two)]);
      expect(await firings(a, id, one)).toBe(3);
    } finally {
      await two.close();
      await one.stop();
    }
  });

  it("ingest is unaffected when rules fail: reports are stored and answered, rules work again afterwards", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const id = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30 });
    const broken = await rule(a, { deviceId: d.id, key: "t", op: "GT", value: 30, action: { type: "SET_STATE", deviceId: d.id, key: "v0", value: 1 } });
    // An action that cannot run (a stored command the command path refuses) only logs.
    await ctx.server.services.pool.query(`UPDATE rules SET action_params = '{"key": "bad key!", "value": 1}' WHERE id = $1`, [broken]);
    await ctx.server.services.pool.query(`ALTER TABLE rules RENAME TO rules_away`);
    try {
      await reports(d, "t", [40]);
      expect(await latest(d)).toEqual({ t: 40 });
    } finally {
      await ctx.server.services.pool.query(`ALTER TABLE rules_away RENAME TO rules`);
    }
    expect(await firings(a, id)).toBe(0);
    await reports(d, "t", [41]);
    expect(await firings(a, id)).toBe(1);
    expect(await latest(d)).toEqual({ t: 41 });
    const history = await ctx.server.services.pool.query(`SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1`, [d.id]);
    expect(history.rows[0].n).toBe(2);
  });

  it("evaluation costs no query per report: 100 rules are loaded once, then only transitions write", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    await ctx.server.services.pool.query(
      `INSERT INTO rules (owner_id, name, device_id, key, op, value, action_type)
       SELECT $1, 'r' || i, $2, 'k' || (i % 5), CASE WHEN i % 2 = 0 THEN 'GT' ELSE 'LT' END, to_jsonb(1000 + i), 'NOTIFY' FROM generate_series(1, 100) i`,
      [a.userId, d.id],
    );
    const data = { k0: 1, k1: 2, k2: 3, k3: 4, k4: 5 };
    await report(d, data);
    await settle(); // loads the rules; the LT ones enter their condition here
    const seen: string[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text: string };
      seen.push(typeof config === "string" ? config : config.text);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      for (let i = 0; i < 20; i++) await report(d, data);
      await settle();
    } finally {
      pg.Client.prototype.query = original;
    }
    expect(seen.filter((sql) => /\brules\b/.test(sql))).toEqual([]);
    expect(await notes(a)).toHaveLength(50);
  });
});
