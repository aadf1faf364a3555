/**
 * Webhook deliveries per second to a local receiver, beside the same receiver hit directly with
 * fetch at the same concurrency (the ceiling), both measured in this run. The server runs as its own
 * process on the local PostgreSQL; reports are posted over V2 and every one becomes a delivery
 * (ingest, matching, durable job, signed POST, log row, attempt record).
 *
 *   DATABASE_URL              admin URL of the PostgreSQL to use (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_WEBHOOK_DELIVERIES  deliveries per measurement (default 5000)
 *   WEBHOOK_CONCURRENCY       deliveries in flight in the server, and the baseline's concurrency (default 10)
 */
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { account, device, gql, scratchDatabase, startServer, type BenchServer } from "./lib.js";

const total = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 5000);
const concurrency = Number(process.env.WEBHOOK_CONCURRENCY ?? 10);
const postConcurrency = 50;
const deviceCount = 50;

/** The receiver: answers 200 at once and notes when each request arrived. */
async function startReceiver() {
  const arrivals: number[] = [];
  let first: { body: string; headers: Record<string, unknown> } | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      arrivals.push(performance.now());
      first ??= { body: Buffer.concat(chunks).toString("utf8"), headers: req.headers };
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    first: () => first,
    reset: () => {
      arrivals.length = 0;
      first = undefined;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Runs `count` tasks with at most `limit` at a time. */
async function pool(count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function main(): Promise<void> {
  const scratch = await scratchDatabase();
  const receiver = await startReceiver();
  let server: BenchServer | undefined;
  try {
    // Baseline: the receiver hit directly, same body size, same concurrency as the delivery worker.
    const sample = JSON.stringify({
      id: crypto.randomUUID(),
      event: "telemetry_update",
      timestamp: new Date().toISOString(),
      data: { deviceId: crypto.randomUUID(), data: { v0: 1, temperature: 21.5, humidity: 55 } },
    });
    const direct = async () => {
      const response = await fetch(receiver.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-webhook-signature": `sha256=${createHmac("sha256", "k").update(sample).digest("hex")}` },
        body: sample,
      });
      await response.text();
    };
    await pool(500, concurrency, direct); // warm-up
    receiver.reset();
    let t0 = performance.now();
    await pool(total, concurrency, direct);
    const baseline = total / ((performance.now() - t0) / 1000);
    receiver.reset();

    server = await startServer(scratch.url, { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32", WEBHOOK_CONCURRENCY: String(concurrency) });
    const base = server.url;
    const token = await account(base);
    const devices = await Promise.all(Array.from({ length: deviceCount }, (_, i) => device(base, token, `bench-${i}`)));
    let sent = 0;
    const post = async () => {
      const i = sent++;
      const d = devices[i % devices.length]!;
      const response = await fetch(`${base}/devices/${d.id}/telemetry`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ device_token: d.token, data: { v0: i & 1, temperature: 20 + (i % 100) / 10, humidity: 55 } }),
      });
      if (response.status !== 200) throw new Error(`report answered ${response.status}`);
      await response.text();
    };

    // The same reports without any webhook: what ingest costs alone, for comparison.
    const postAll = async () => {
      const started = performance.now();
      await pool(total, postConcurrency, post);
      return (performance.now() - started) / 1000;
    };
    await pool(500, postConcurrency, post);
    const ingestAloneSeconds = await postAll();
    // A webhook that matches no report: the cost of matching alone, on the ingest path.
    await gql(
      base,
      `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }`,
      { i: { url: receiver.url, events: ["device_offline"] } },
      token,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const ingestMatchingSeconds = await postAll();
    const { secret } = (
      await gql(
        base,
        `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }`,
        { i: { url: receiver.url, events: ["telemetry_update"] } },
        token,
      )
    ).createWebhook;

    await new Promise((r) => setTimeout(r, 1500)); // past WEBHOOK_CACHE_MS: the new webhook is seen
    // Warm-up (connections, caches, JIT), then the measured run.
    await pool(500, postConcurrency, post);
    while (receiver.arrivals.length < 500) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const check = receiver.first()!;
    const signed = `sha256=${createHmac("sha256", secret).update(check.body).digest("hex")}`;
    if (check.headers["x-webhook-signature"] !== signed) throw new Error("a delivery's signature did not verify");
    receiver.reset();

    t0 = performance.now();
    const ingestSeconds = await postAll();
    const deadline = Date.now() + 300_000;
    while (receiver.arrivals.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const got = receiver.arrivals.length;
    const firstAt = receiver.arrivals[0]!;
    const lastAt = receiver.arrivals[got - 1]!;
    const steady = (got - 1) / ((lastAt - firstAt) / 1000);
    const endToEnd = got / ((lastAt - t0) / 1000);

    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    const statuses = (await db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status`)).rows;
    await db.end();

    const date = new Date().toISOString().slice(0, 10);
    console.log(
      `\nThingsNXT webhook benchmark, ${date}: ${total} deliveries, one server process, ${concurrency} deliveries in flight, receiver and load generator on the same machine\n`,
    );
    console.log("| scenario | req/s | vs ceiling |");
    console.log("|---|---:|---:|");
    console.log(`| receiver hit directly with fetch, ${concurrency} at a time (ceiling) | ${Math.round(baseline).toLocaleString("en-US")} | 100% |`);
    console.log(`| webhook deliveries (first to last arrival) | ${Math.round(steady).toLocaleString("en-US")} | ${((steady / baseline) * 100).toFixed(0)}% |`);
    console.log(
      `| webhook deliveries (first report to last arrival) | ${Math.round(endToEnd).toLocaleString("en-US")} | ${((endToEnd / baseline) * 100).toFixed(0)}% |`,
    );
    const rate = (seconds: number) => `${Math.round(total / seconds).toLocaleString("en-US")}/s`;
    console.log(
      `\ningest, ${postConcurrency} reports at a time: ${rate(ingestAloneSeconds)} without webhooks, ${rate(ingestMatchingSeconds)} with a webhook matching no report, ` +
        `${rate(ingestSeconds)} while every report made a delivery (same machine: the deliveries take CPU from ingest); ${got} of ${total} delivered`,
    );
    console.log(`delivery log: ${statuses.map((s) => `${s.status} ${s.n}`).join(", ")}`);
  } finally {
    await server?.stop();
    receiver.close();
    await scratch.drop().catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
