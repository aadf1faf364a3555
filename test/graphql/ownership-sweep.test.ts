import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appSchema } from "../../src/app/schema.js";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { subscribe } from "../helpers/ws.js";

/**
 * Every query, mutation and subscription that takes an id is called by Bob with each of Alice's
 * ids. The list of operations comes from the schema itself, so a new operation cannot be forgotten.
 * Each call must answer NOT_FOUND (or null), and afterwards Alice's objects must be unchanged.
 */
let server: TestServer;
let alice: Account;
let bob: Account;
const aliceIds: Record<string, string> = {};

const SNAPSHOT = `{
  me { id username email }
  devices { id name type location state { desired } widgets { id label } }
  dashboards { id name widgets { id label order width height config nextSchedule { id status } } }
  webhooks { id url active events }
  notifications(first: 50) { edges { node { id read } } }
  firmwares { id version }
  releases { id status counts { targeted } }
}`;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  alice = await signUp(server.url);
  bob = await signUp(server.url);
  const t = alice.accessToken;
  const device = await addDevice(server.url, alice);
  aliceIds.device = device.id;
  aliceIds.dashboard = (await gql(server.url, `mutation { createDashboard(input: {name: "A"}) { id } }`, {}, t)).data.createDashboard.id;
  aliceIds.widget = (
    await gql(
      server.url,
      `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id } }`,
      { i: { dashboardId: aliceIds.dashboard, deviceId: device.id, type: "led", label: "L" } },
      t,
    )
  ).data.createWidget.id;
  aliceIds.schedule = (
    await gql(server.url, `mutation ($w: ID!) { createTimer(widgetId: $w, state: 1, durationSeconds: 3600) { id } }`, { w: aliceIds.widget }, t)
  ).data.createTimer.id;
  aliceIds.webhook = (
    await gql(server.url, `mutation { createWebhook(input: { url: "https://example.com/hook", events: [all] }) { webhook { id } } }`, {}, t)
  ).data.createWebhook.webhook.id;
  aliceIds.notification = (await server.services.notifications.notify(alice.userId, { type: "info", title: "t", message: "m" }))!.id;
  // Areas added later (rules, ...) get their ids here as they appear in the schema.
  const rule = await gql(
    server.url,
    `mutation ($d: ID!) { createRule(input: { name: "r", deviceId: $d, key: "t", op: GT, value: 1, action: { type: NOTIFY } }) { id } }`,
    { d: device.id },
    t,
  );
  if (rule.data?.createRule?.id) aliceIds.rule = rule.data.createRule.id;
  // A firmware image (uploaded over REST) and a release of it to Alice's device.
  const image = Buffer.alloc(200, 1);
  image[0] = 0xe9;
  const uploaded = await fetch(`${server.url}/firmware?title=sweep&version=1.0.0`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", authorization: `Bearer ${t}` },
    body: image,
  });
  aliceIds.firmware = ((await uploaded.json()) as { id: string }).id;
  aliceIds.release = (
    await gql(
      server.url,
      `mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { id } }`,
      { i: { firmwareId: aliceIds.firmware, deviceIds: [device.id] } },
      t,
    )
  ).data.createRelease.id;
  // The offer lands in the device's state in the background: wait for it, so the snapshots hold still.
  for (let i = 0; i < 400 && !("ota" in (await server.services.state.get(device.id)).desired); i++) await new Promise((r) => setTimeout(r, 25));
});
afterAll(() => server.stop());

/** A value of the right type for an argument; ids come from `id`. */
function sample(type: GraphQLInputType, id: string, name: string): unknown {
  if (isNonNullType(type)) return sample(type.ofType, id, name);
  if (isListType(type)) return [sample(type.ofType, id, name)];
  if (isEnumType(type)) return type.getValues()[0]!.name; // variables use the enum's names
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type) || getNamedType(field.type).name === "ID") out[field.name] = sample(field.type, id, field.name);
    }
    return out;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case "ID":
        return id;
      case "Int":
        return name === "first" ? 5 : 60;
      case "Float":
        return 1;
      case "Boolean":
        return true;
      case "DateTime":
        return new Date(Date.now() + 3600_000).toISOString();
      case "JSONObject":
        return { v0: 1 };
      case "JSON":
        return 1;
      default:
        return name.toLowerCase().includes("url") ? "https://example.com/x" : "x";
    }
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** An ID argument, or an input object with an ID field (createRelease's firmwareId and deviceIds, ...). */
const takesId = (field: GraphQLField<unknown, unknown>) =>
  field.args.some((a) => {
    const named = getNamedType(a.type);
    return named.name === "ID" || (isInputObjectType(named) && Object.values(named.getFields()).some((f) => getNamedType(f.type).name === "ID"));
  });

function operation(kind: "query" | "mutation" | "subscription", field: GraphQLField<unknown, unknown>, id: string) {
  const vars: Record<string, unknown> = {};
  const decl = field.args.map((a: GraphQLArgument) => {
    vars[a.name] = sample(a.type, id, a.name);
    return `$${a.name}: ${String(a.type)}`;
  });
  const named = getNamedType(field.type);
  const selection = isObjectType(named) ? " { __typename }" : "";
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(", ");
  const query = `${kind}${decl.length ? `(${decl.join(", ")})` : ""} { ${field.name}${args ? `(${args})` : ""}${selection} }`;
  return { query, vars, nullable: !isNonNullType(field.type) || getNullableType(field.type) !== field.type };
}

describe("ownership sweep: another user's ids, every operation", async () => {
  const schema = await appSchema();
  const queries = Object.values(schema.getQueryType()!.getFields()).filter(takesId);
  const mutations = Object.values(schema.getMutationType()!.getFields()).filter(takesId);
  const subscriptions = Object.values(schema.getSubscriptionType()?.getFields() ?? {}).filter(takesId);

  it("covers the operations that take ids", () => {
    expect(queries.map((f) => f.name)).toEqual(expect.arrayContaining(["device", "dashboard", "widget", "schedules", "telemetryHistory"]));
    expect(mutations.length).toBeGreaterThanOrEqual(15);
  });

  it.each(queries.map((f) => [f.name, f] as const))("query %s", async (_name, field) => {
    const before = await gql(server.url, SNAPSHOT, {}, alice.accessToken);
    for (const id of Object.values(aliceIds)) {
      const { query, vars } = operation("query", field, id);
      const res = await gql(server.url, query, vars, bob.accessToken);
      const value = res.data?.[field.name];
      const ok = res.errors ? res.errors[0]!.extensions?.code === "NOT_FOUND" : value === null || (Array.isArray(value) && value.length === 0);
      expect({ op: field.name, id, ok, res: ok ? undefined : res }).toEqual({ op: field.name, id, ok: true, res: undefined });
    }
    expect(await gql(server.url, SNAPSHOT, {}, alice.accessToken)).toEqual(before);
  });

  it.each(mutations.map((f) => [f.name, f] as const))("mutation %s", async (_name, field) => {
    const before = await gql(server.url, SNAPSHOT, {}, alice.accessToken);
    for (const id of Object.values(aliceIds)) {
      const { query, vars } = operation("mutation", field, id);
      const res = await gql(server.url, query, vars, bob.accessToken);
      const code = res.errors?.[0]?.extensions?.code;
      expect({ op: field.name, id, code, errors: code === "NOT_FOUND" ? undefined : res.errors }).toEqual({
        op: field.name,
        id,
        code: "NOT_FOUND",
        errors: undefined,
      });
    }
    expect(await gql(server.url, SNAPSHOT, {}, alice.accessToken)).toEqual(before);
  });

  it.each(subscriptions.map((f) => [f.name, f] as const))("subscription %s", async (_name, field) => {
    for (const id of Object.values(aliceIds)) {
      const { query, vars } = operation("subscription", field, id);
      const live = await subscribe(server.url, bob.accessToken, query, vars);
      const errors = await Promise.race([live.error, new Promise((r) => setTimeout(() => r("silence"), 3000))]);
      expect({ op: field.name, id, code: (errors as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code }).toEqual({
        op: field.name,
        id,
        code: "NOT_FOUND",
      });
      await live.dispose();
    }
  });
});
