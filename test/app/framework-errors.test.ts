import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

/** Requests refused before any route runs still answer in the contract's {"detail"} shape. */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ REQUEST_TIMEOUT_SECONDS: "1" });
});
afterAll(() => server?.stop());

/** Sends raw bytes and returns everything the server answered until it closed (or `ms` passed). */
function raw(bytes: string, ms = 8000): Promise<{ text: string; closedAfterMs: number }> {
  const { port } = new URL(server.url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(bytes));
    let text = "";
    socket.on("data", (d) => (text += d.toString("utf8")));
    const done = () => resolve({ text, closedAfterMs: Date.now() - started });
    socket.on("close", done);
    socket.on("error", () => undefined);
    setTimeout(() => socket.destroy(), ms);
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const detailOf = (text: string) => JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).detail as string;

describe("refusals of the HTTP layer", () => {
  it("431 for headers that are too large", async () => {
    const { text } = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(statusOf(text)).toBe(431);
    expect(detailOf(text)).toBe("Request headers are too large");
  });

  it("400 for a request that is not HTTP", async () => {
    const { text } = await raw("HELLO THERE\r\n\r\n");
    expect(statusOf(text)).toBe(400);
    expect(detailOf(text)).toBe("Malformed HTTP request");
  });

  it("408, then the socket closes, for a body that never arrives", async () => {
    const { text, closedAfterMs } = await raw(`POST /telemetry HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"da`);
    expect(statusOf(text)).toBe(408);
    expect(detailOf(text)).toBe("The request did not arrive in time");
    expect(closedAfterMs).toBeLessThan(6000);
  });

  it("a device id longer than the router accepts is answered with {detail}", async () => {
    const res = await http(server.url, "POST", `/devices/${"a".repeat(1500)}/telemetry`, { body: { data: {} } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(Object.keys(res.body)).toEqual(["detail"]);
  });
});
