import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, gql, PASSWORD, signUp } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("abuse limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    // Real budgets (factor 1) and a tight REST budget, to show GraphQL logout is not caught by it.
    server = await startTestServer({ GRAPHQL_RATE_LIMIT_FACTOR: "1", RATE_LIMIT_MAX: "5" });
  });
  afterAll(() => server.stop());

  it("refuses queries deeper than 10 levels", async () => {
    const deep = `{ devices { widgets { device { widgets { device { widgets { device { widgets { device { widgets { id } } } } } } } } } } }`;
    const res = await gql(server.url, deep);
    expect(res.errors![0]).toMatchObject({ message: "Query is too deep: 11 levels, at most 10", extensions: { code: "BAD_USER_INPUT" } });
  });

  it("lets the IDE's introspection through in development, whatever its depth and size", async () => {
    const res = await gql(
      server.url,
      `{ __schema { types { name fields { name args { name type { name ofType { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.types.length).toBeGreaterThan(20);
  });

  it("refuses more than 20 aliases", async () => {
    const query = `{ ${Array.from({ length: 21 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    const res = await gql(server.url, query);
    expect(res.errors![0]).toMatchObject({ message: "Too many aliases: at most 20 per request", extensions: { code: "BAD_USER_INPUT" } });
  });

  it("refuses expensive queries before running them", async () => {
    const res = await gql(server.url, `{ devices { widgets { device { widgets { device { widgets { id } } } } } } }`);
    expect(res.errors![0]!.message).toMatch(/^Query is too expensive: cost \d+, at most 5000$/);
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
  });

  it("refuses batched requests", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    });
    expect(response.status).toBe(400);
  });

  it("limits logins per login name; the right password is refused too while locked", async () => {
    const a = await signUp(server.url);
    const login = (password: string) =>
      gql(server.url, `mutation { login(input: { login: "${a.username.toUpperCase()}", password: "${password}" }) { accessToken } }`);
    for (let i = 0; i < 10; i++) expect(codeOf(await login("Wrong-pass1"))).toBe("UNAUTHENTICATED");
    const locked = await login(PASSWORD);
    expect(locked.errors![0]).toMatchObject({ message: "Too many login calls: at most 10 per 300 s; retry later", extensions: { code: "RATE_LIMITED" } });
  });

  it("counts aliased calls in one request together", async () => {
    const a = await signUp(server.url);
    const call = (i: number) => `r${i}: requestPasswordReset(email: "${a.email}")`;
    const res = await gql(server.url, `mutation { ${Array.from({ length: 6 }, (_, i) => call(i)).join(" ")} }`);
    // Five per email per hour: the sixth alias is refused (and, being non-null, ends the operation).
    expect(res.errors![0]).toMatchObject({ path: ["r5"], extensions: { code: "RATE_LIMITED" } });
  });

  it("never rate limits logout", async () => {
    const a = await signUp(server.url);
    for (let i = 0; i < 15; i++) {
      const res = await gql(server.url, `mutation { logout { alreadyLoggedOut } }`, {}, a.accessToken);
      expect(res.data.logout.alreadyLoggedOut).toBe(i > 0);
    }
  });
});

describe("in production", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: "production" });
  });
  afterAll(() => server.stop());

  it("has no introspection and no suggestions", async () => {
    const intro = await gql(server.url, `{ __schema { types { name } } }`);
    expect(codeOf(intro)).toBe("GRAPHQL_VALIDATION_FAILED");
    const typo = await gql(server.url, `{ mee { id } }`);
    expect(codeOf(typo)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
    expect(JSON.stringify(typo)).not.toMatch(/stacktrace/);
  });
});
