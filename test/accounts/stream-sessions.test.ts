import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gql, signUp } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * Streams over plain HTTP (graphql-sse, the old /notifications/stream) end when their access token
 * expires or is revoked, as WebSockets are closed: one helper watches all of them.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const SUBSCRIPTION = JSON.stringify({ query: `subscription { telemetryUpdated { deviceId } }` });

function graphqlSse(base: string, token: string): Promise<Response> {
  return fetch(`${base}/graphql/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: SUBSCRIPTION,
  });
}

/** Everything the server sends until it ends the stream (or `ms` pass: then "still open"). */
async function untilEnd(response: Response, ms: number): Promise<string> {
  const reader = response.body!.getReader();
  let text = "";
  const deadline = setTimeout(() => void reader.cancel("still open"), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch {
    // the connection was cut rather than ended: what arrived still counts
  }
  clearTimeout(deadline);
  return text;
}

describe("HTTP streams follow the session", () => {
  it("a graphql-sse stream ends on logout with UNAUTHENTICATED, then complete", async () => {
    const a = await signUp(server.url);
    const response = await graphqlSse(server.url, a.accessToken);
    expect(response.status).toBe(200);
    const ended = untilEnd(response, 5000);
    await new Promise((r) => setTimeout(r, 200));
    await gql(server.url, `mutation { logout { alreadyLoggedOut } }`, {}, a.accessToken);
    const text = await ended;
    expect(text).toContain(`"message":"Access token was revoked: log in again","extensions":{"code":"UNAUTHENTICATED"}`);
    expect(text).toMatch(/event: complete/);
  });

  it("another user's logout does not end the stream", async () => {
    const [a, b] = await Promise.all([signUp(server.url), signUp(server.url)]);
    const response = await graphqlSse(server.url, a.accessToken);
    const ended = untilEnd(response, 1500);
    await gql(server.url, `mutation { logout { alreadyLoggedOut } }`, {}, b.accessToken);
    expect(await ended).not.toContain("UNAUTHENTICATED");
  });

  it("GET /notifications/stream ends on logout", async () => {
    const a = await signUp(server.url);
    const response = await fetch(`${server.url}/notifications/stream`, { headers: { authorization: `Bearer ${a.accessToken}` } });
    const ended = untilEnd(response, 5000);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await gql(server.url, `mutation { logout { alreadyLoggedOut } }`, {}, a.accessToken);
    expect(await ended).toContain("event: initial");
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("both end when the access token expires", async () => {
    const short = await startTestServer({ ACCESS_TOKEN_TTL_SECONDS: "10" }, server.databaseUrl);
    try {
      const a = await signUp(short.url);
      const started = Date.now();
      const [sse, notifications] = await Promise.all([
        graphqlSse(short.url, a.accessToken).then((r) => untilEnd(r, 15_000)),
        fetch(`${short.url}/notifications/stream`, { headers: { authorization: `Bearer ${a.accessToken}` } }).then((r) => untilEnd(r, 15_000)),
      ]);
      expect(sse).toContain(`"message":"Access token expired: refresh it"`);
      expect(notifications).toContain("event: initial");
      expect(Date.now() - started).toBeGreaterThan(5000);
      expect(Date.now() - started).toBeLessThan(14_000);
    } finally {
      await short.close();
    }
  }, 25_000);
});
