/** Issue 4's table: report-to-subscriber latency, command latency, idle sockets, two processes. */
import { performance } from "node:perf_hooks";
import type autocannon from "autocannon";
import WebSocket from "ws";
import { account, device, gql, load, percentile, redisUrl, rssMiB, scratchDatabase, startServer, table, type Row } from "./lib.js";

/** A raw graphql-ws client: lighter than the library's, so 10,000 fit in the load process. */
function socket(url: string, token: string, query?: string, variables?: object, onNext?: (data: any) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
    ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    ws.on("message", (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.type === "connection_ack") {
        if (query) ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
        resolve(ws);
      } else if (msg.type === "next") onNext?.(msg.payload.data);
      else if (msg.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
    });
    ws.on("error", reject);
  });
}

const SUB = `subscription ($id: ID) { telemetryUpdated(deviceId: $id) { data } }`;

async function fanOut(postUrl: string, subUrl: string, token: string, dev: { id: string; token: string }, subscribers: number): Promise<Row> {
  const arrivals = new Map<number, number[]>();
  const sockets = await Promise.all(
    Array.from({ length: subscribers }, () =>
      socket(subUrl, token, SUB, { id: dev.id }, (data) => {
        const seq = data.telemetryUpdated.data.seq as number;
        arrivals.get(seq)?.push(performance.now());
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 300));
  const latencies: number[] = [];
  const rounds = 40;
  for (let seq = 0; seq < rounds; seq++) {
    arrivals.set(seq, []);
    const res = await fetch(`${postUrl}/devices/${dev.id}/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ device_token: dev.token, data: { seq } }),
    });
    const acked = performance.now();
    await res.text();
    for (let waited = 0; arrivals.get(seq)!.length < subscribers && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    for (const at of arrivals.get(seq)!) latencies.push(Math.max(0, at - acked));
    await new Promise((r) => setTimeout(r, 20));
  }
  const missing = rounds * subscribers - latencies.length;
  for (const ws of sockets) ws.close();
  return {
    scenario: `telemetry POST 200 -> subscription message, ${subscribers} subscriber(s)`,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: missing,
  };
}

async function commandLatency(url: string, token: string, longPoll: boolean, samples: number): Promise<Row> {
  const dev = await device(url, token, longPoll ? "long-poll" : "plain-poll");
  const dash = (await gql(url, `mutation { createDashboard(input: { name: "cmd" }) { id } }`, {}, token)).createDashboard.id;
  const widget = (
    await gql(
      url,
      `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id } }`,
      { i: { dashboardId: dash, deviceId: dev.id, type: "led", label: "L" } },
      token,
    )
  ).createWidget.id;
  let current = 0;
  let received: ((at: number) => void) | undefined;
  let running = true;
  const deviceLoop = (async () => {
    while (running) {
      const res = await fetch(`${url}/telemetry/latest?device_token=${dev.token}${longPoll ? "&wait=25" : ""}`);
      const body = (await res.json()) as { data: { v0?: number } };
      const at = performance.now();
      if (body.data.v0 === current && received) received(at);
      if (!longPoll) await new Promise((r) => setTimeout(r, 3000));
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    current = current ? 0 : 1;
    await new Promise((r) => setTimeout(r, longPoll ? 50 : Math.random() * 3000));
    const got = new Promise<number>((resolve) => (received = resolve));
    const sent = performance.now();
    await gql(url, `mutation ($id: ID!, $s: JSON!) { setWidgetState(id: $id, state: $s) { id } }`, { id: widget, s: current }, token);
    latencies.push((await got) - sent);
    received = undefined;
  }
  running = false;
  void deviceLoop;
  return {
    scenario: longPoll ? "setWidgetState -> long-polling device (wait=25)" : "setWidgetState -> device polling every 3 s (old way)",
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    note: `${samples} commands`,
  };
}

async function idleSockets(url: string, pid: number, token: string, count: number): Promise<Row[]> {
  const devs = await Promise.all(Array.from({ length: 50 }, (_, i) => device(url, token, `ingest-${i}`)));
  let n = 0;
  const v2: autocannon.Request = {
    method: "POST",
    setupRequest: (req) => {
      const d = devs[n++ % devs.length]!;
      return {
        ...req,
        path: `/devices/${d.id}/telemetry`,
        headers: { "content-type": "application/json" },
        body: `{"device_token":"${d.token}","data":{"t":${n},"h":50,"v0":1,"v1":0,"x":2}}`,
      };
    },
  };
  const quiet = await device(url, token, "quiet");
  const without = await load("V2 ingest, no sockets open", url, [v2]);
  const before = await rssMiB(pid);
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 500) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, count - i) }, () => socket(url, token, SUB, { id: quiet.id })))));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = await rssMiB(pid);
  const withSockets = await load(`V2 ingest, ${count.toLocaleString("en-US")} idle sockets open`, url, [v2]);
  withSockets.note = `${((withSockets.rps! / without.rps!) * 100).toFixed(0)}% of the rate without them`;
  for (const ws of sockets) ws.terminate();
  return [
    without,
    withSockets,
    {
      scenario: `server resident memory with ${count.toLocaleString("en-US")} idle authenticated subscribed sockets`,
      note: `${after.toFixed(0)} MiB (${before.toFixed(0)} MiB before: ${(((after - before) * 1024) / count).toFixed(1)} KiB per socket)`,
    },
  ];
}

export async function realtimeBench(): Promise<void> {
  const db = await scratchDatabase();
  const server = await startServer(db.url);
  const rows: Row[] = [];
  try {
    const token = await account(server.url);
    const dev = await device(server.url, token);
    for (const n of [1, 100, 1000]) rows.push(await fanOut(server.url, server.url, token, dev, n));
    rows.push(await commandLatency(server.url, token, true, 50));
    rows.push(await commandLatency(server.url, token, false, 10));
    rows.push(...(await idleSockets(server.url, server.child.pid!, token, Number(process.env.BENCH_IDLE_SOCKETS ?? 10_000))));
  } finally {
    await server.stop();
  }
  // Two processes sharing PostgreSQL and Redis: report on A, subscribers on B.
  const a = await startServer(db.url, { REDIS_URL: redisUrl });
  const b = await startServer(db.url, { REDIS_URL: redisUrl });
  try {
    const token = await account(a.url);
    const dev = await device(a.url, token);
    const row = await fanOut(a.url, b.url, token, dev, 100);
    row.scenario = "two processes + Redis: POST on A -> 100 subscribers on B";
    rows.push(row);
  } finally {
    await a.stop();
    await b.stop();
    await db.drop();
  }
  table("Realtime (subscriptions, long poll, idle sockets)", rows);
}
