import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/platform/db/embedded.js";
import { eventually } from "../helpers/fixture.js";
import { addDevice, codeOf, gql, PASSWORD, signUp, type Account } from "../helpers/graphql.js";
import { http, sleep, startTestServer, type TestServer } from "../helpers/server.js";

/**
 * Redis between two processes goes away and comes back. Each process reaches Redis through its own
 * TCP proxy, which the test cuts (every connection reset, new ones refused) and restores, as a
 * restarted or partitioned Redis would look to them.
 */
class RedisLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly port: number) {}

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(6379, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("error", () => undefined);
        s.on("close", () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

let a: TestServer;
let b: TestServer;
let linkA: RedisLink;
let linkB: RedisLink;
let user: Account;

beforeAll(async () => {
  linkA = new RedisLink(await freePort());
  linkB = new RedisLink(await freePort());
  await Promise.all([linkA.up(), linkB.up()]);
  a = await startTestServer({ REDIS_URL: `redis://127.0.0.1:${linkA.port}`, GRAPHQL_RATE_LIMIT_FACTOR: "1", RATE_LIMIT_MAX: "100000" });
  b = await startTestServer({ REDIS_URL: `redis://127.0.0.1:${linkB.port}`, GRAPHQL_RATE_LIMIT_FACTOR: "1", RATE_LIMIT_MAX: "100000" }, a.databaseUrl);
  user = await signUp(a.url);
});
afterAll(async () => {
  await Promise.all([linkA.up(), linkB.up()]);
  await b?.close();
  await a?.stop();
  await linkA.down();
  await linkB.down();
});

const login = (base: string) =>
  gql(base, `mutation ($i: LoginInput!) { login(input: $i) { accessToken } }`, { i: { login: user.username, password: PASSWORD } });

describe("with Redis gone", () => {
  it("logins and commands still work (budgets counted per process), and REST answers", async () => {
    const device = await addDevice(a.url, user);
    await Promise.all([linkA.down(), linkB.down()]);
    await sleep(300);
    const logged = await login(a.url);
    expect(logged.errors).toBeUndefined();
    expect(logged.data.login.accessToken).toEqual(expect.any(String));
    const set = await gql(a.url, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: device.id }, user.accessToken);
    expect(set.errors).toBeUndefined();
    const report = await http(b.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { t: 1 } } });
    expect(report.status).toBe(200);
    // A budget still applies: 10 logins per 5 minutes per name.
    let refused: string | undefined;
    for (let i = 0; i < 12 && !refused; i++) refused = codeOf(await login(a.url));
    expect(refused).toBe("RATE_LIMITED");
    await Promise.all([linkA.up(), linkB.up()]);
  });
});

describe("after Redis is back", () => {
  it("what changed on B during the outage is seen on A: a rotated token, a logout, a command", async () => {
    // The previous test's reconnects (and their resyncs) are over.
    await eventually("both links ready", () => a.services.redis?.status === "ready" && b.services.redis?.status === "ready");
    await sleep(1000);
    const device = await addDevice(a.url, await signUp(a.url).then((u) => (user = u)));
    const session = await signUp(a.url);
    // A caches all three.
    expect((await http(a.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}`)).status).toBe(200);
    expect((await gql(a.url, `{ me { id } }`, {}, session.accessToken)).errors).toBeUndefined();

    await Promise.all([linkA.down(), linkB.down()]);
    await sleep(300);
    const rotated = await gql(b.url, `mutation ($id: ID!) { rotateDeviceToken(id: $id) { token } }`, { id: device.id }, user.accessToken);
    expect(rotated.errors).toBeUndefined();
    expect((await gql(b.url, `mutation { logout { tokensDeleted } }`, {}, session.accessToken)).errors).toBeUndefined();
    await gql(b.url, `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: device.id }, user.accessToken);
    // Without an event A would believe its caches for up to their TTL (60 s): the waits below would time out.

    await Promise.all([linkA.up(), linkB.up()]);
    await eventually(
      "the old token refused on A",
      async () => (await http(a.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(device.token)}`)).status === 403,
      10_000,
    );
    expect(codeOf(await gql(a.url, `{ me { id } }`, {}, session.accessToken))).toBe("UNAUTHENTICATED");
    const latest = await http(a.url, "GET", `/telemetry/latest?device_token=${encodeURIComponent(rotated.data.rotateDeviceToken.token)}`);
    expect(latest.body.data).toMatchObject({ v0: 1 });
  }, 30_000);
});
