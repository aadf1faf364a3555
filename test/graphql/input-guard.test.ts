import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql, signUp, type Account } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { codeOf, over, overHttp, TRANSPORTS, type Result } from "./clients.js";

/**
 * Hostile text in a request is refused at the transport with BAD_USER_INPUT naming where, before any
 * resolver: NUL and lone surrogates (PostgreSQL cannot store them), prototype keys, oversized and
 * token-heavy documents. The same on HTTP, graphql-ws and graphql-sse.
 */
let server: TestServer;
let alice: Account;
let device: { id: string };
beforeAll(async () => {
  server = await startTestServer();
  alice = await signUp(server.url);
  device = await addDevice(server.url, alice);
});
afterAll(() => server?.stop());

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`;
const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { device { id } } }`;
const SET_STATE = `mutation ($id: ID!, $desired: JSONObject!) { setDeviceState(deviceId: $id, desired: $desired) { version } }`;

const refused = (result: Result, message: string | RegExp) => {
  expect(result.errors?.[0]?.message).toMatch(message);
  expect(codeOf(result)).toBe("BAD_USER_INPUT");
  expect(result.data ?? undefined).toBeUndefined();
};

const desiredOf = async () =>
  (await gql(server.url, `query ($id: ID!) { device(id: $id) { state { desired } } }`, { id: device.id }, alice.accessToken)).data.device.state.desired;

describe.each(TRANSPORTS)("over %s", (transport) => {
  const send = (query: string, variables: Record<string, unknown> = {}) => over(transport, server.url, alice.accessToken, query, variables);

  it("refuses NUL in variables and in literals, naming where", async () => {
    refused(await send(LOGIN, { input: { login: "ali\u0000ce", password: "x" } }), /^variable "input.login" contains a NUL character$/);
    refused(
      await send(`mutation { login(input: { login: "ali\\u0000ce", password: "x" }) { accessToken } }`),
      /^argument "input.login" contains a NUL character$/,
    );
    refused(await send(SET_STATE, { id: device.id, desired: { v: ["ok", "a\u0000"] } }), /^variable "desired.v\[1\]" contains a NUL character$/);
    refused(await send(SET_STATE, { id: device.id, desired: { "k\u0000": 1 } }), /^variable "desired" has a key that contains a NUL character$/);
  });

  it("refuses lone surrogates, raw or escaped", async () => {
    refused(await send(CREATE_DEVICE, { input: { name: "x\ud800" } }), /^variable "input.name" contains a lone surrogate/);
    refused(await send(`mutation { createDevice(input: { name: "x\\uD800" }) { device { id } } }`), /lone surrogate/);
    refused(await send(`mutation { createDevice(input: { name: "x\ud800" }) { device { id } } }`), /^Document contains a lone surrogate/);
    // A well-formed pair is text like any other.
    const ok = await send(CREATE_DEVICE, { input: { name: "plant \ud83c\udf31" } });
    expect(ok.errors).toBeUndefined();
  });

  it("refuses prototype keys in JSON literals and variables, and writes nothing", async () => {
    const before = await desiredOf();
    refused(
      await send(`mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { __proto__: { v: 1 }, w: 2 }) { version } }`, { id: device.id }),
      /^argument "desired" has the key "__proto__", which is not allowed$/,
    );
    // Over HTTP and SSE, Fastify's JSON parser refuses a __proto__ key before GraphQL sees it.
    const proto = transport === "ws" ? /^variable "desired" has the key "__proto__", which is not allowed$/ : /holds a __proto__ or constructor.prototype key/;
    refused(await send(SET_STATE, { id: device.id, desired: JSON.parse(`{"w": 2, "__proto__": {"v": 1}}`) }), proto);
    refused(
      await send(SET_STATE, { id: device.id, desired: { a: { constructor: 1 } } }),
      /^variable "desired.a" has the key "constructor", which is not allowed$/,
    );
    refused(await send(SET_STATE, { id: device.id, desired: { prototype: { w: 2 } } }), /^variable "desired" has the key "prototype", which is not allowed$/);
    expect(await desiredOf()).toEqual(before);
  });

  it("refuses variables nested deeper than 64 levels", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    refused(await send(SET_STATE, { id: device.id, desired: { deep } }), /^variable "desired.deep(\[0\])+" is nested deeper than 64 levels$/);
  });

  it("refuses a 64 KiB document of 10,900 repeated fields in milliseconds", async () => {
    const query = `{ me { ${"email ".repeat(10_900)}} }`;
    expect(query.length).toBeGreaterThan(64_000);
    const started = Date.now();
    refused(await send(query), /^Document is too large: \d+ bytes, at most 32768$/);
    expect(Date.now() - started).toBeLessThan(1000); // today's validation of it takes seconds
  });

  it("refuses documents of too many tokens or directives, before parsing", async () => {
    refused(await send(`{ me { ${"id ".repeat(3000)}} }`), /^Document has too many tokens: more than 2000$/);
    refused(await send(`{ me { ${"id @include(if: true) ".repeat(51)}} }`), /^Document has too many directives: more than 50$/);
    const fine = await send(`{ me { ${"id @include(if: true) ".repeat(50)}} }`);
    expect(fine.errors).toBeUndefined();
  });
});

describe("over HTTP", () => {
  it("refuses hostile text before authentication too", async () => {
    refused(await overHttp(server.url, undefined, LOGIN, { input: { login: "a\u0000", password: "x" } }), /NUL/);
    refused(
      await overHttp(server.url, undefined, `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
        input: { email: "x@example.com", username: "x\ud800", password: "Sup3rSecret!" },
      }),
      /lone surrogate/,
    );
  });

  it.each([
    ["a dashboard name", `mutation ($v: String!) { createDashboard(input: { name: $v }) { id } }`, (v: string) => ({ v })],
    ["a webhook URL", `mutation ($v: String!) { createWebhook(input: { url: $v, events: [all] }) { webhook { id } } }`, (v: string) => ({ v })],
    [
      "rule text",
      `mutation ($v: String!, $d: ID!) { createRule(input: { name: "r", deviceId: $d, key: "t", op: CHANGED, action: { type: NOTIFY, message: $v } }) { id } }`,
      (v: string) => ({ v, d: device.id }),
    ],
    [
      "a widget label",
      `mutation ($v: String!, $d: ID!) { createWidget(input: { dashboardId: $d, type: "card", label: $v }) { id } }`,
      (v: string) => ({ v, d: device.id }),
    ],
    [
      "a widget config",
      `mutation ($c: JSONObject!, $d: ID!) { createWidget(input: { dashboardId: $d, type: "card", label: "l", config: $c }) { id } }`,
      (v: string) => ({ c: { unit: v }, d: device.id }),
    ],
    ["a widget state", `mutation ($c: JSON!, $d: ID!) { setWidgetState(id: $d, state: $c) { id } }`, (v: string) => ({ c: [v], d: device.id })],
  ])("refuses NUL in %s, never with INTERNAL_SERVER_ERROR", async (_what, query, variables) => {
    const result = await overHttp(server.url, alice.accessToken, query, variables("https://example.com/\u0000"));
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(result.errors![0]!.message).toMatch(/^variable "[a-z.[\]0-9]+" contains a NUL character$/);
  });

  it("answers a body over the limit in GraphQL's shape", async () => {
    const result = await overHttp(server.url, alice.accessToken, `{ me { ${"email ".repeat(12_000)}} }`);
    expect(result.status).toBe(413);
    expect(result.errors![0]).toMatchObject({ message: "Request body is larger than the limit", extensions: { code: "BAD_USER_INPUT" } });
  });
});
