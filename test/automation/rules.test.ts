import { describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { ISO_RE } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const RULE = `id name enabled deviceId device { id } key op value forSeconds
  action { type deviceId device { id } key value message webhookId } lastFiredAt active suspendedAt suspendedReason createdAt updatedAt`;
const CREATE = `mutation ($i: CreateRuleInput!) { createRule(input: $i) { ${RULE} } }`;
const UPDATE = `mutation ($id: ID!, $i: UpdateRuleInput!) { updateRule(id: $id, input: $i) { ${RULE} } }`;
const DELETE = `mutation ($id: ID!) { deleteRule(id: $id) }`;
const ONE = `query ($id: ID!) { rule(id: $id) { ${RULE} } }`;
const LIST = `{ rules { ${RULE} } }`;

const NOTIFY = { type: "NOTIFY" };
const create = (a: Account, input: Record<string, unknown>) =>
  gql(ctx.base, CREATE, { i: { name: "Hot", key: "temperature", op: "GT", value: 30, action: NOTIFY, ...input } }, a.accessToken);
async function created(a: Account, input: Record<string, unknown>) {
  const res = await create(a, input);
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.createRule;
}
const update = (a: Account, id: string, i: Record<string, unknown>) => gql(ctx.base, UPDATE, { id, i }, a.accessToken);
const refusal = (res: { errors?: Array<{ message: string; extensions?: { code?: string } }> }) => ({
  message: res.errors?.[0]?.message,
  code: res.errors?.[0]?.extensions?.code,
});
const webhookOf = async (a: Account) =>
  (await gql(ctx.base, `mutation { createWebhook(input: {url: "https://example.com/h", events: [all]}) { webhook { id } } }`, {}, a.accessToken)).data
    .createWebhook.webhook.id as string;

describe("createRule, rules and rule", () => {
  it("creates a rule of each action type, returns it whole and lists only the caller's", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a, "sensor");
    const e = await addDevice(ctx.base, a, "lamp");
    const hook = await webhookOf(a);
    const hot = await created(a, { deviceId: d.id, forSeconds: 60, action: { type: "NOTIFY", message: "  It is hot  " } });
    expect(hot).toEqual({
      id: expect.any(String),
      name: "Hot",
      enabled: true,
      deviceId: d.id,
      device: { id: d.id },
      key: "temperature",
      op: "GT",
      value: 30,
      forSeconds: 60,
      action: { type: "NOTIFY", deviceId: null, device: null, key: null, value: null, message: "It is hot", webhookId: null },
      lastFiredAt: null,
      active: false,
      suspendedAt: null,
      suspendedReason: null,
      createdAt: expect.stringMatching(ISO_RE),
      updatedAt: expect.stringMatching(ISO_RE),
    });
    const lamp = await created(a, {
      name: " Lamp on ",
      deviceId: d.id,
      key: "button",
      op: "EQ",
      value: "pressed",
      action: { type: "SET_STATE", deviceId: e.id, key: "v0", value: true },
    });
    expect(lamp).toMatchObject({
      name: "Lamp on",
      op: "EQ",
      value: "pressed",
      forSeconds: 0,
      action: { type: "SET_STATE", deviceId: e.id, device: { id: e.id }, key: "v0", value: true, message: null },
    });
    const hooked = await created(a, { deviceId: d.id, key: "v1", op: "CHANGED", value: null, enabled: false, action: { type: "WEBHOOK", webhookId: hook } });
    expect(hooked).toMatchObject({ op: "CHANGED", value: null, enabled: false, action: { type: "WEBHOOK", webhookId: hook, deviceId: null } });

    expect((await gql(ctx.base, LIST, {}, a.accessToken)).data.rules).toEqual([hot, lamp, hooked]);
    expect((await gql(ctx.base, ONE, { id: lamp.id }, a.accessToken)).data.rule).toEqual(lamp);
    expect((await gql(ctx.base, LIST, {}, ctx.bob.accessToken)).data.rules.map((r: any) => r.id)).not.toContain(hot.id);
    for (const id of [hot.id, crypto.randomUUID(), "not-an-id"]) expect((await gql(ctx.base, ONE, { id }, ctx.bob.accessToken)).data.rule).toBeNull();
  });

  it("accepts every operator with a fitting value", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    for (const [op, value] of [
      ["GT", 1.5],
      ["GTE", -3],
      ["LT", 0],
      ["LTE", 100],
      ["EQ", true],
      ["EQ", 1],
      ["NEQ", "off"],
      ["CHANGED", null],
    ] as const) {
      expect(await created(ctx.alice, { deviceId: d.id, op, value })).toMatchObject({ op, value });
    }
    // CHANGED takes no value: absent is the same as null.
    expect(await created(ctx.alice, { deviceId: d.id, op: "CHANGED", value: undefined })).toMatchObject({ op: "CHANGED", value: null });
  });

  it.each([
    [{ op: "GT", value: "hot" }, "value must be a number for GT"],
    [{ op: "LTE", value: true }, "value must be a number for LTE"],
    [{ op: "GTE", value: null }, "value must be a number for GTE"],
    [{ op: "EQ", value: null }, "value must be a number, a string or a boolean for EQ"],
    [{ op: "NEQ", value: { a: 1 } }, "value must be a number, a string or a boolean for NEQ"],
    [{ op: "EQ", value: "x".repeat(1025) }, "value must be at most 1024 bytes"],
    [{ op: "CHANGED", value: 3 }, "value must be null for CHANGED: it compares with the previous report"],
    [{ forSeconds: -1 }, "forSeconds must be 0 to 86400"],
    [{ forSeconds: 86_401 }, "forSeconds must be 0 to 86400"],
    [{ op: "CHANGED", value: null, forSeconds: 5 }, "forSeconds must be 0 for CHANGED: a change is an instant, not a state"],
    [{ name: "  " }, "name must be 1 to 100 characters"],
    [{ name: "n".repeat(101) }, "name must be 1 to 100 characters"],
    [{ key: "has space" }, 'key "has space" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -'],
    [{ key: "" }, 'key "" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -'],
    [{ action: { type: "SET_STATE", key: "v0", value: 1 } }, "SET_STATE needs action.deviceId, action.key and action.value"],
    [{ action: { type: "WEBHOOK" } }, "WEBHOOK needs action.webhookId"],
    [{ action: { type: "NOTIFY", key: "v0" } }, "action.key is not used by NOTIFY"],
    [{ action: { type: "NOTIFY", message: "m".repeat(501) } }, "action.message must be at most 500 characters"],
  ])("refuses bad input %#: %s", async (input, message) => {
    const d = await addDevice(ctx.base, ctx.alice);
    expect(refusal(await create(ctx.alice, { deviceId: d.id, ...input }))).toEqual({ message, code: "BAD_USER_INPUT" });
  });

  it("refuses an unknown operator or action type before anything runs", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    expect(codeOf(await create(ctx.alice, { deviceId: d.id, op: ">" }))).toBe("BAD_USER_INPUT");
    expect(codeOf(await create(ctx.alice, { deviceId: d.id, action: { type: "EMAIL" } }))).toBe("BAD_USER_INPUT");
    const literal = `mutation { createRule(input: {name: "x", deviceId: "${d.id}", key: "t", op: BIGGER, value: 1, action: {type: NOTIFY}}) { id } }`;
    expect(codeOf(await gql(ctx.base, literal, {}, ctx.alice.accessToken))).toBe("GRAPHQL_VALIDATION_FAILED");
    expect((await gql(ctx.base, LIST, {}, ctx.alice.accessToken)).data.rules.filter((r: any) => r.deviceId === d.id)).toEqual([]);
  });

  it("a foreign, unknown or malformed device, target or webhook is NOT_FOUND", async () => {
    const a = await signUp(ctx.base);
    const mine = await addDevice(ctx.base, a);
    const theirs = await addDevice(ctx.base, ctx.bob);
    const theirHook = await webhookOf(ctx.bob);
    for (const id of [theirs.id, crypto.randomUUID(), "nope"]) {
      expect(refusal(await create(a, { deviceId: id }))).toEqual({ message: "Device not found", code: "NOT_FOUND" });
      const target = { type: "SET_STATE", deviceId: id, key: "v0", value: 1 };
      expect(refusal(await create(a, { deviceId: mine.id, action: target }))).toEqual({ message: "Device not found", code: "NOT_FOUND" });
    }
    for (const webhookId of [theirHook, crypto.randomUUID(), "nope"]) {
      expect(refusal(await create(a, { deviceId: mine.id, action: { type: "WEBHOOK", webhookId } }))).toEqual({
        message: "Webhook not found",
        code: "NOT_FOUND",
      });
    }
    expect((await gql(ctx.base, LIST, {}, a.accessToken)).data.rules).toEqual([]);
  });

  it("needs a token", async () => {
    expect(codeOf(await gql(ctx.base, LIST))).toBe("UNAUTHENTICATED");
    expect(codeOf(await gql(ctx.base, CREATE, { i: { name: "x", deviceId: crypto.randomUUID(), key: "t", op: "GT", value: 1, action: NOTIFY } }))).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("allows 200 rules per account, even when they are created at once", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const results = await Promise.all(Array.from({ length: 205 }, (_, i) => create(a, { deviceId: d.id, name: `r${i}` })));
    expect(results.filter((r) => r.data?.createRule)).toHaveLength(200);
    const refused = results.filter((r) => r.errors);
    expect(refused).toHaveLength(5);
    expect(refusal(refused[0]!)).toEqual({ message: "at most 200 rules per account; delete one first", code: "CONFLICT" });
  });
});

describe("updateRule and deleteRule", () => {
  it("changes each field, keeps absent ones, and re-checks the value against a new operator", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const d2 = await addDevice(ctx.base, a);
    const rule = await created(a, { deviceId: d.id });
    const up = async (i: Record<string, unknown>) => {
      const res = await update(a, rule.id, i);
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      return res.data.updateRule;
    };
    expect(await up({ name: "Warm", value: 25.5, forSeconds: 10 })).toMatchObject({ name: "Warm", op: "GT", value: 25.5, forSeconds: 10, deviceId: d.id });
    expect(await up({ deviceId: d2.id, key: "humidity", op: "LT" })).toMatchObject({
      deviceId: d2.id,
      device: { id: d2.id },
      key: "humidity",
      op: "LT",
      value: 25.5,
    });
    expect(refusal(await update(a, rule.id, { op: "EQ", value: [1] }))).toEqual({
      message: "value must be a number, a string or a boolean for EQ",
      code: "BAD_USER_INPUT",
    });
    expect(await up({ op: "EQ", value: "dry" })).toMatchObject({ op: "EQ", value: "dry" });
    expect(refusal(await update(a, rule.id, { op: "GT" }))).toEqual({ message: "value must be a number for GT", code: "BAD_USER_INPUT" });
    // CHANGED cannot use a value or a duration: switching to it drops both.
    expect(await up({ op: "CHANGED" })).toMatchObject({ op: "CHANGED", value: null, forSeconds: 0 });
    expect(refusal(await update(a, rule.id, { forSeconds: 3 }))).toEqual({
      message: "forSeconds must be 0 for CHANGED: a change is an instant, not a state",
      code: "BAD_USER_INPUT",
    });
    expect(await up({ action: { type: "SET_STATE", deviceId: d.id, key: "v0", value: 0 } })).toMatchObject({
      action: { type: "SET_STATE", deviceId: d.id, key: "v0", value: 0, message: null },
    });
    expect(await up({ enabled: false })).toMatchObject({ enabled: false });
    const last = await up({ enabled: true });
    expect(last).toMatchObject({ name: "Warm", enabled: true, deviceId: d2.id, key: "humidity", op: "CHANGED", action: { type: "SET_STATE" } });
    expect(Date.parse(last.updatedAt)).toBeGreaterThan(Date.parse(rule.updatedAt));
    expect((await gql(ctx.base, ONE, { id: rule.id }, a.accessToken)).data.rule).toEqual(last);
  });

  it("another user's rule, or a foreign device in the update, is NOT_FOUND and changes nothing", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const rule = await created(a, { deviceId: d.id });
    const theirs = await addDevice(ctx.base, ctx.bob);
    expect(refusal(await update(ctx.bob, rule.id, { name: "mine now" }))).toEqual({ message: "Rule not found", code: "NOT_FOUND" });
    expect(refusal(await update(a, rule.id, { deviceId: theirs.id }))).toEqual({ message: "Device not found", code: "NOT_FOUND" });
    expect(refusal(await update(a, rule.id, { action: { type: "SET_STATE", deviceId: theirs.id, key: "v0", value: 1 } }))).toEqual({
      message: "Device not found",
      code: "NOT_FOUND",
    });
    expect(refusal(await update(a, rule.id, { action: { type: "WEBHOOK", webhookId: await webhookOf(ctx.bob) } }))).toEqual({
      message: "Webhook not found",
      code: "NOT_FOUND",
    });
    expect(refusal(await gql(ctx.base, DELETE, { id: rule.id }, ctx.bob.accessToken))).toEqual({ message: "Rule not found", code: "NOT_FOUND" });
    expect((await gql(ctx.base, ONE, { id: rule.id }, a.accessToken)).data.rule).toEqual(rule);
  });

  it("deletes once; a second delete or a malformed id is NOT_FOUND", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const rule = await created(ctx.alice, { deviceId: d.id });
    expect((await gql(ctx.base, DELETE, { id: rule.id }, ctx.alice.accessToken)).data.deleteRule).toBe(true);
    for (const id of [rule.id, "nope"])
      expect(refusal(await gql(ctx.base, DELETE, { id }, ctx.alice.accessToken))).toEqual({ message: "Rule not found", code: "NOT_FOUND" });
    expect((await gql(ctx.base, ONE, { id: rule.id }, ctx.alice.accessToken)).data.rule).toBeNull();
  });

  it("deleting a device deletes the rules that read it and the rules that drive it; deleting a webhook, the rules that call it", async () => {
    const a = await signUp(ctx.base);
    const [sensor, lamp, other] = [await addDevice(ctx.base, a), await addDevice(ctx.base, a), await addDevice(ctx.base, a)];
    const hook = await webhookOf(a);
    const reads = await created(a, { deviceId: sensor.id });
    const drives = await created(a, { deviceId: other.id, action: { type: "SET_STATE", deviceId: lamp.id, key: "v0", value: 1 } });
    const calls = await created(a, { deviceId: other.id, action: { type: "WEBHOOK", webhookId: hook } });
    const stays = await created(a, { deviceId: other.id });
    await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: sensor.id }, a.accessToken);
    await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: lamp.id }, a.accessToken);
    await gql(ctx.base, `mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook }, a.accessToken);
    const left = (await gql(ctx.base, LIST, {}, a.accessToken)).data.rules.map((r: any) => r.id);
    expect(left).toEqual([stays.id]);
    expect(left).not.toContain(reads.id);
    expect(left).not.toContain(drives.id);
    expect(left).not.toContain(calls.id);
  });
});
