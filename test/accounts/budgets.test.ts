import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDevice, codeOf, gql, PASSWORD, signUp } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** Budgets and caps that a client must not be able to dodge: by spelling, by concurrency, by deployment. */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ GRAPHQL_RATE_LIMIT_FACTOR: "1", RATE_LIMIT_MAX: "100000" });
});
afterAll(() => server?.stop());

const LOGIN = `mutation ($login: String!, $password: String!) { login(input: { login: $login, password: $password }) { accessToken } }`;

describe("budgets that cannot be dodged", () => {
  it("login: padding, case and Unicode forms of one name share its budget of 10 per 5 min", async () => {
    const a = await signUp(server.url);
    const name = a.username;
    const spellings = [name, ` ${name}`, `${name} `, name.toUpperCase(), `\t${name}`, `${name}\u00a0`, `  ${name.toUpperCase()}  `];
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 11; i++) codes.push(codeOf(await gql(server.url, LOGIN, { login: spellings[i % spellings.length]!, password: "Wrong-pass1" })));
    expect(codes.slice(0, 10).every((c) => c === "UNAUTHENTICATED")).toBe(true);
    expect(codes[10]).toBe("RATE_LIMITED");
    // The right password is refused too: the budget is the name's, not the password's.
    expect(codeOf(await gql(server.url, LOGIN, { login: name, password: PASSWORD }))).toBe("RATE_LIMITED");
  });

  it("the dashboard cap of 100 holds under 30 concurrent creates", async () => {
    const a = await signUp(server.url);
    const create = () => gql(server.url, `mutation { createDashboard(input: { name: "D" }) { id } }`, {}, a.accessToken);
    for (let i = 0; i < 90; i++) expect(codeOf(await create())).toBeUndefined();
    const burst = await Promise.all(Array.from({ length: 30 }, create));
    expect(burst.filter((r) => r.data?.createDashboard).length).toBe(10);
    expect(burst.filter((r) => codeOf(r) === "BAD_USER_INPUT").length).toBe(20);
    const { rows } = await server.services.pool.query(`SELECT count(*)::int AS n FROM dashboards WHERE owner_id = $1`, [a.userId]);
    expect(rows[0].n).toBe(100);
  });

  it("the cap of 100 pending timers per widget holds under 30 concurrent creates", async () => {
    const a = await signUp(server.url);
    const device = await addDevice(server.url, a);
    const dash = (await gql(server.url, `mutation { createDashboard(input: { name: "D" }) { id } }`, {}, a.accessToken)).data.createDashboard.id;
    const led = (
      await gql(
        server.url,
        `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id } }`,
        { i: { dashboardId: dash, deviceId: device.id, type: "led", label: "L" } },
        a.accessToken,
      )
    ).data.createWidget.id;
    const timer = () => gql(server.url, `mutation ($w: ID!) { createTimer(widgetId: $w, state: 1, durationSeconds: 3600) { id } }`, { w: led }, a.accessToken);
    for (let i = 0; i < 90; i++) expect(codeOf(await timer())).toBeUndefined();
    const burst = await Promise.all(Array.from({ length: 30 }, timer));
    expect(burst.filter((r) => r.data?.createTimer).length).toBe(10);
    const { rows } = await server.services.pool.query(`SELECT count(*)::int AS n FROM schedules WHERE widget_id = $1 AND status = 'PENDING'`, [led]);
    expect(rows[0].n).toBe(100);
  });

  it("rate-limit counters in Redis belong to their deployment: another one sharing Redis is not charged", async () => {
    const redis = { REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", GRAPHQL_RATE_LIMIT_FACTOR: "1", RATE_LIMIT_MAX: "3" };
    const [one, two] = await Promise.all([startTestServer(redis), startTestServer(redis)]);
    try {
      const health = (s: TestServer) => fetch(`${s.url}/nothing-here`).then((r) => r.status);
      const first = [];
      for (let i = 0; i < 4; i++) first.push(await health(one));
      expect(first).toEqual([404, 404, 404, 429]);
      expect(await health(two)).toBe(404); // same client address, another deployment: its own budget
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
