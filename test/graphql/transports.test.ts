import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, signUp, type Account } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { connect, execute } from "../helpers/ws.js";
import { codeOf, over, TRANSPORTS } from "./clients.js";

/**
 * graphql-ws and graphql-sse apply what HTTP applies: the depth, alias and cost limits, the
 * per-operation budgets, no introspection in production, and the same codes for requests that do
 * not parse, validate or coerce (never INTERNAL_SERVER_ERROR).
 */
describe("every transport, in development", () => {
  let server: TestServer;
  let alice: Account;
  beforeAll(async () => {
    server = await startTestServer({ GRAPHQL_RATE_LIMIT_FACTOR: "1" });
    alice = await signUp(server.url);
  });
  afterAll(() => server?.stop());

  describe.each(TRANSPORTS)("over %s", (transport) => {
    const send = (query: string, variables: Record<string, unknown> = {}, operationName?: string) =>
      over(transport, server.url, alice.accessToken, query, variables, operationName);

    it("applies the depth, alias and cost limits", async () => {
      const deep = await send(`{ devices { widgets { device { widgets { device { widgets { device { widgets { device { widgets { id } } } } } } } } } } }`);
      expect(deep.errors![0]).toMatchObject({ message: "Query is too deep: 11 levels, at most 10", extensions: { code: "BAD_USER_INPUT" } });
      const aliases = await send(`{ ${Array.from({ length: 21 }, (_, i) => `a${i}: __typename`).join(" ")} }`);
      expect(aliases.errors![0]).toMatchObject({ message: "Too many aliases: at most 20 per request", extensions: { code: "BAD_USER_INPUT" } });
      const costly = await send(`{ devices { widgets { device { widgets { device { widgets { id } } } } } } }`);
      expect(costly.errors![0]!.message).toMatch(/^Query is too expensive: cost \d+, at most 5000$/);
      expect(codeOf(costly)).toBe("BAD_USER_INPUT");
    });

    it("gives parse, validation, variable and operation errors HTTP's codes", async () => {
      expect(codeOf(await send(`{ me { id }`))).toBe("GRAPHQL_PARSE_FAILED");
      const typo = await send(`{ mee { id } }`);
      expect(codeOf(typo)).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(typo.errors![0]!.message).toMatch(/Did you mean "me"\?/); // suggestions are for development
      expect(codeOf(await send(`query ($id: ID!) { device(id: $id) { id } }`, { id: { a: 1 } }))).toBe("BAD_USER_INPUT");
      expect(codeOf(await send(`query ($id: ID!) { device(id: $id) { id } }`))).toBe("BAD_USER_INPUT");
      expect(codeOf(await send(`subscription ($id: ID) { telemetryUpdated(deviceId: $id) { deviceId } }`, { id: [1, 2] }))).toBe("BAD_USER_INPUT");
      expect(codeOf(await send(`query A { me { id } } query B { me { id } }`, {}, "C"))).toBe("OPERATION_RESOLUTION_FAILURE");
    });

    it("lets introspection through in development", async () => {
      const res = await send(`{ __schema { queryType { name } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    });
  });

  it("counts per-operation budgets over graphql-ws as over HTTP", async () => {
    const { client } = connect(server.url, { authorization: `Bearer ${alice.accessToken}` });
    const login = () =>
      execute(client, `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`, { input: { login: "nobody-ws", password: PASSWORD } });
    for (let i = 0; i < 10; i++) expect(codeOf(await login())).toBe("UNAUTHENTICATED");
    expect((await login()).errors![0]).toMatchObject({
      message: "Too many login calls: at most 10 per 300 s; retry later",
      extensions: { code: "RATE_LIMITED" },
    });
    await client.dispose();
  });

  it("counts per-operation budgets over graphql-sse as over HTTP", async () => {
    const login = () =>
      over("sse", server.url, alice.accessToken, `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`, {
        input: { login: "nobody-sse", password: PASSWORD },
      });
    for (let i = 0; i < 10; i++) expect(codeOf(await login())).toBe("UNAUTHENTICATED");
    expect((await login()).errors![0]).toMatchObject({
      message: "Too many login calls: at most 10 per 300 s; retry later",
      extensions: { code: "RATE_LIMITED" },
    });
  });
});

describe("every transport, in production", () => {
  let server: TestServer;
  let alice: Account;
  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: "production" });
    alice = await signUp(server.url);
  });
  afterAll(() => server?.stop());

  it.each(TRANSPORTS)("has no introspection and no suggestions over %s", async (transport) => {
    const send = (query: string) => over(transport, server.url, alice.accessToken, query);
    for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "User") { fields { name } } }`]) {
      const res = await send(query);
      expect(codeOf(res)).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(res.data ?? undefined).toBeUndefined();
    }
    const typo = await send(`{ mee { id } }`);
    expect(codeOf(typo)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(typo.errors![0]!.message).toBe(`Cannot query field "mee" on type "Query".`);
    // __typename is not introspection of the schema.
    expect((await send(`{ __typename }`)).data).toEqual({ __typename: "Query" });
  });
});
