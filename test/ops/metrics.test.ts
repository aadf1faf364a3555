import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/fixture.js";
import { addDevice, signUp, type Account } from "../helpers/graphql.js";
import { http, startTestServer, type TestServer } from "../helpers/server.js";
import { connect } from "../helpers/ws.js";

const TOKEN = "scrape-token-0123456789abcdef";

let open: TestServer; // no METRICS_TOKEN: loopback only
let guarded: TestServer; // METRICS_TOKEN set
let alice: Account;

beforeAll(async () => {
  // A budget of 3, which the scrapes alone exceed. All interfaces, so a request through the
  // machine's own LAN address is a non-loopback client; one trusted proxy hop, so X-Forwarded-For
  // can name a remote client.
  [open, guarded] = await Promise.all([
    startTestServer({ RATE_LIMIT_MAX: "3", HOST: "0.0.0.0", TRUST_PROXY: "1" }),
    startTestServer({ RATE_LIMIT_MAX: "1000", METRICS_TOKEN: TOKEN, DB_POOL_SIZE: "2" }),
  ]);
  alice = await signUp(open.url);
});
afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop()]);
});

async function scrape(server: TestServer = open): Promise<string> {
  const res = await http(server.url, "GET", "/metrics", server === guarded ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});
  expect(res.status, res.text).toBe(200);
  return res.text;
}

/** The value of one sample, `name{labels}` exactly as exposed (labels in the order they are declared). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  it("is Prometheus text with process metrics including event-loop lag, and is never rate limited", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await http(open.url, "GET", "/metrics");
      expect(res.status, `call ${i + 1}`).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
    const text = await scrape();
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
      "nodejs_eventloop_lag_p99_seconds",
    ]) {
      expect(text).toMatch(new RegExp(`^${name} [\\d.e+-]+$`, "m"));
    }
    expect(text).toContain("# TYPE http_request_duration_seconds histogram");
  });

  it("counts requests by route pattern, method and status; unknown paths as unmatched", async () => {
    const device = await addDevice(open.url, alice);
    const before = await scrape();
    const reportSeries = 'http_requests_total{route="/devices/:device_id/telemetry",method="POST",status="200"}';
    await http(open.url, "GET", "/health");
    await http(open.url, "GET", "/health");
    await http(open.url, "GET", `/no-such-path-${Date.now()}`);
    await http(open.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { t: 1 } } });
    const after = await scrape();
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(delta('http_requests_total{route="/health",method="GET",status="200"}')).toBe(2);
    expect(delta('http_requests_total{route="unmatched",method="GET",status="404"}')).toBe(1);
    expect(delta(reportSeries)).toBe(1);
    expect(after).not.toContain(device.id); // the pattern, never the URL
    expect(sample(after, 'http_request_duration_seconds_count{route="/health",method="GET",status="200"}')).toBeGreaterThanOrEqual(2);
    expect(after).toMatch(/^http_request_duration_seconds_bucket\{le="30",route="\/health",method="GET",status="200"\} \d+$/m);
  });

  it("counts device reports, and reads devices online and the job queue from the database", async () => {
    const device = await addDevice(open.url, alice);
    const reports = sample(await scrape(), "thingsnxt_reports_total")!;
    for (let i = 0; i < 3; i++) {
      const res = await http(open.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { i } } });
      expect(res.status).toBe(200);
    }
    const text = await scrape();
    expect(sample(text, "thingsnxt_reports_total")).toBe(reports + 3);
    const { rows } = await open.services.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM devices WHERE status = 'online'");
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
    await eventually("devices online in the metrics", async () => sample(await scrape(), "thingsnxt_devices_online") === rows[0]!.n);
    // The presence sweep is a durable job: the queue is never empty.
    const jobs = ["due", "scheduled", "running", "failed"].map((state) => sample(text, `thingsnxt_jobs{state="${state}"}`));
    for (const value of jobs) expect(Number.isInteger(value)).toBe(true);
    expect(jobs.reduce((a, b) => a! + b!, 0)).toBeGreaterThanOrEqual(1);
  });

  it("shows held long polls and open GraphQL WebSockets", async () => {
    const device = await addDevice(open.url, alice);
    expect(sample(await scrape(), "thingsnxt_long_polls_held")).toBe(0);
    const poll = http(open.url, "GET", `/telemetry/latest?device_token=${device.token}&wait=2`);
    await eventually("a held long poll", async () => sample(await scrape(), "thingsnxt_long_polls_held") === 1);
    await poll;
    expect(sample(await scrape(), "thingsnxt_long_polls_held")).toBe(0);

    const baseline = sample(await scrape(), "thingsnxt_graphql_ws_sockets")!;
    const { client } = connect(open.url, { authorization: `Bearer ${alice.accessToken}` });
    await eventually("an open socket", async () => sample(await scrape(), "thingsnxt_graphql_ws_sockets") === baseline + 1);
    await client.dispose();
    await eventually("the socket closed", async () => sample(await scrape(), "thingsnxt_graphql_ws_sockets") === baseline);
  });

  it("keeps each server's counters apart (a registry per server, several in one process)", async () => {
    for (let i = 0; i < 3; i++) await http(open.url, "GET", "/health/live");
    const mine = sample(await scrape(), 'http_requests_total{route="/health/live",method="GET",status="200"}');
    expect(mine).toBeGreaterThanOrEqual(3);
    expect(sample(await scrape(guarded), 'http_requests_total{route="/health/live",method="GET",status="200"}')).toBeUndefined();
  });

  it("still answers when the database hangs: its gauges say NaN and the miss is counted", async () => {
    const held = await Promise.all([guarded.services.pool.connect(), guarded.services.pool.connect()]);
    let text: string;
    const started = Date.now();
    try {
      text = await scrape(guarded);
    } finally {
      for (const client of held) client.release();
    }
    expect(Date.now() - started).toBeLessThan(2500);
    expect(sample(text, "thingsnxt_devices_online")).toBeNaN();
    expect(sample(text, 'thingsnxt_jobs{state="due"}')).toBeNaN();
    expect(sample(text, 'thingsnxt_metrics_scrape_errors_total{gauge="thingsnxt_devices_online"}')).toBe(1);
    expect(sample(text, "thingsnxt_long_polls_held")).toBe(0);
    await eventually("the gauges back", async () => Number.isInteger(sample(await scrape(guarded), "thingsnxt_devices_online")));
  });
});

describe("who may read /metrics", () => {
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

  it.skipIf(!lan)("without METRICS_TOKEN: 403 to a client that is not on this machine", async () => {
    const port = new URL(open.url).port;
    const res = await http(`http://${lan}:${port}`, "GET", "/metrics");
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/METRICS_TOKEN/);
    expect(res.text).not.toContain("http_requests_total");
  });

  it("without METRICS_TOKEN: 403 to a request relayed by a proxy, even one on this machine", async () => {
    const relayed: Array<Record<string, string>> = [
      { "x-forwarded-for": "203.0.113.7" },
      { "x-forwarded-for": "127.0.0.1" },
      { forwarded: "for=127.0.0.1" },
      { "x-real-ip": "127.0.0.1" },
    ];
    for (const headers of relayed) {
      const res = await http(open.url, "GET", "/metrics", { headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(Object.keys(res.body)).toEqual(["detail"]);
    }
  });

  it("with METRICS_TOKEN: 401 without the bearer token or with a wrong one, 200 with it from anywhere", async () => {
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const res = await http(guarded.url, "GET", "/metrics", { headers: authorization ? { authorization } : {} });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.body.detail).toMatch(/Bearer/);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    }
    const res = await http(guarded.url, "GET", "/metrics", { headers: { authorization: `bearer ${TOKEN}`, "x-forwarded-for": "203.0.113.7" } });
    expect(res.status).toBe(200);
    expect(res.text).toContain("# TYPE thingsnxt_reports_total counter");
  });
});
