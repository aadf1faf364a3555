import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/fixture.js";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: TestServer;
const lines: Array<Record<string, unknown>> = [];
const logs = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  // debug: every request gets a log line; a budget of 3 to reach a 429.
  server = await startTestServer({ LOG_LEVEL: "debug", RATE_LIMIT_MAX: "3" }, undefined, logs);
});
afterAll(() => server?.stop());

const idOf = async (headers: Record<string, string> = {}, path = "/health") => (await http(server.url, "GET", path, { headers })).headers.get("x-request-id");

describe("X-Request-Id", () => {
  it("is generated (a UUID, new for every request) when the client sends none", async () => {
    const [a, b] = [await idOf(), await idOf()];
    expect(a).toMatch(UUID_RE);
    expect(b).toMatch(UUID_RE);
    expect(a).not.toBe(b);
  });

  it("echoes the client's own id when it is a short token", async () => {
    for (const id of ["abc", "trace-01.span:7_x", "A".repeat(128), "0af7651916cd43dd8448eb211c80319c"]) {
      expect(await idOf({ "x-request-id": id })).toBe(id);
    }
  });

  it("replaces an id that is too long or carries other characters", async () => {
    for (const id of ["A".repeat(129), "has space", "<script>", "a,b", "naïve", 'quote"d', "a/b"]) {
      const answered = await idOf({ "x-request-id": id });
      expect(answered, id).toMatch(UUID_RE);
    }
  });

  it("is on refusals too: 404 and 429", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await http(server.url, "GET", `/nothing-here-${i}`, { headers: { "x-request-id": `miss-${i}` } });
      statuses.push(res.status);
      expect(res.headers.get("x-request-id")).toBe(`miss-${i}`);
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it("is in the log lines of the request", async () => {
    await idOf({ "x-request-id": "find-me-in-the-log-42" }, "/health/live");
    const line = await eventually("the request's log line", () => lines.find((l) => l.msg === "request" && l.reqId === "find-me-in-the-log-42"));
    expect(line).toMatchObject({ method: "GET", url: "/health/live", status: 200 });
    const generated = await idOf({}, "/health/live");
    await eventually("the generated id in the log", () => lines.some((l) => l.msg === "request" && l.reqId === generated));
  });
});
