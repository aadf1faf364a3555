/**
 * `BENCH_ONLY=soak npm run bench`: a fleet for minutes (issue 11, point 10). BENCH_SOAK_DEVICES
 * devices (2,000) start at the same instant against a server that just started (cold start and
 * the first-contact storm included), each reporting every 2 s and holding a long poll
 * (GET /telemetry/latest?wait=20) the whole time, for BENCH_SOAK_SECONDS (300). The server's RSS is
 * sampled every 10 s and /health timed every second; every failed request is counted. Not in the
 * default list: it takes minutes.
 */
import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import pg from "pg";
import { percentile, rssMiB, scratchDatabase, startServer } from "./lib.js";

const deviceCount = Number(process.env.BENCH_SOAK_DEVICES ?? 2000);
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const REPORT_EVERY_MS = 2000;

interface Answer {
  ms: number;
  ok: boolean;
}

/** One request on the device's own keep-alive agent; a failure (status, reset, timeout) is an answer too. */
function call(agent: Agent, base: string, method: string, path: string, body?: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {};
    const req = request(`${base}${path}`, { method, agent, headers, timeout: 60_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ms: performance.now() - started, ok: res.statusCode === 200 }));
      res.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
    req.end(body);
  });
}

const db = await scratchDatabase();
const server = await startServer(db.url);
try {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const owner = (await client.query<{ id: string }>(`INSERT INTO users (email, username) VALUES ('soak@example.com', 'soak') RETURNING id`)).rows[0]!.id;
  const tokens = Array.from({ length: deviceCount }, () => randomBytes(32).toString("base64url"));
  const hash = (token: string) => createHash("sha256").update(token).digest("hex");
  const { rows } = await client.query<{ id: string; token_hash: string }>(
    `WITH d AS (INSERT INTO devices (owner_id, name, token_hash) SELECT $1, 'soak-' || i, h FROM unnest($2::text[]) WITH ORDINALITY AS x(h, i) RETURNING id, token_hash)
     , s AS (INSERT INTO device_state (device_id) SELECT id FROM d) SELECT id, token_hash FROM d`,
    [owner, tokens.map(hash)],
  );
  await client.end();
  const idOf = new Map(rows.map((r) => [r.token_hash, r.id]));
  const fleet = tokens.map((token) => ({ id: idOf.get(hash(token))!, token }));

  const startedAt = performance.now();
  const until = startedAt + soakSeconds * 1000;
  const at = () => (performance.now() - startedAt) / 1000;
  const reports: Array<{ t: number } & Answer> = [];
  const polls: Answer[] = [];
  const health: Answer[] = [];
  const rss: Array<{ t: number; mib: number }> = [{ t: 0, mib: await rssMiB(server.child.pid!) }];

  const sampler = setInterval(() => void rssMiB(server.child.pid!).then((mib) => rss.push({ t: at(), mib })), 10_000);
  const healthAgent = new Agent({ keepAlive: true }); // a probe that hangs does not hold up the next one
  const prober = setInterval(() => void call(healthAgent, server.url, "GET", "/health").then((a) => health.push(a)), 1000);

  // Every device at once: the first reports and polls leave in the same turn of the event loop.
  await Promise.all(
    fleet.map(async (device, i) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 2 }); // one for reports, one for the held poll
      const reporting = (async () => {
        for (let n = 0; performance.now() < until; n++) {
          const sent = performance.now();
          const body = JSON.stringify({ device_token: device.token, data: { n, temperature: 20 + (i % 100) / 10 } });
          const answer = await call(agent, server.url, "POST", `/devices/${device.id}/telemetry`, body);
          reports.push({ t: (sent - startedAt) / 1000, ...answer });
          // Every 2 s, with the drift of a device's own clock (±5 %), so the fleet spreads as real ones do.
          const next = sent + REPORT_EVERY_MS * (0.95 + Math.random() * 0.1);
          await new Promise((r) => setTimeout(r, Math.max(0, Math.min(next, until) - performance.now())));
        }
      })();
      const polling = (async () => {
        while (performance.now() < until) {
          const answer = await call(agent, server.url, "GET", `/telemetry/latest?wait=20&device_token=${encodeURIComponent(device.token)}`);
          polls.push(answer);
          if (!answer.ok) await new Promise((r) => setTimeout(r, 1000)); // as the firmware backs off
        }
      })();
      await Promise.all([reporting, polling]);
      agent.destroy();
    }),
  );
  clearInterval(sampler);
  clearInterval(prober);
  healthAgent.destroy();
  rss.push({ t: at(), mib: await rssMiB(server.child.pid!) });

  const minute = (from: number, to: number) => rss.filter((s) => s.t >= from && s.t < to).map((s) => s.mib);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const second = minute(60, 120);
  const last = minute(soakSeconds - 60, soakSeconds + 1);
  const first = reports.filter((r) => r.t < 60);
  const later = reports.filter((r) => r.t >= 60);
  const errors = reports.filter((r) => !r.ok).length + polls.filter((p) => !p.ok).length + health.filter((h) => !h.ok).length;
  const ms = (values: number[], p: number) => (values.length ? percentile(values, p).toFixed(1) : "");
  const mib = (values: number[]) => (values.length ? `${mean(values).toFixed(0)} (max ${Math.max(...values).toFixed(0)})` : "");

  console.log(`\n### Soak: ${deviceCount} devices, a report every 2 s and a held long poll each, ${soakSeconds} s, all started at once\n`);
  console.log("| measure | value |");
  console.log("|---|---:|");
  console.log(`| reports answered / failed | ${reports.length - reports.filter((r) => !r.ok).length} / ${reports.filter((r) => !r.ok).length} |`);
  console.log(`| reports per second (whole run) | ${(reports.length / soakSeconds).toFixed(0)} |`);
  console.log(
    `| report p50 / p99 ms, first minute (cold start) | ${ms(
      first.map((r) => r.ms),
      50,
    )} / ${ms(
      first.map((r) => r.ms),
      99,
    )} |`,
  );
  console.log(
    `| report p50 / p99 ms, after the first minute | ${ms(
      later.map((r) => r.ms),
      50,
    )} / ${ms(
      later.map((r) => r.ms),
      99,
    )} |`,
  );
  console.log(`| long polls answered / failed | ${polls.length - polls.filter((p) => !p.ok).length} / ${polls.filter((p) => !p.ok).length} |`);
  console.log(
    `| /health samples, p50 / p99 / max ms | ${health.length}, ${ms(
      health.map((h) => h.ms),
      50,
    )} / ${ms(
      health.map((h) => h.ms),
      99,
    )} / ${health.length ? Math.max(...health.map((h) => h.ms)).toFixed(1) : ""} |`,
  );
  console.log(`| RSS MiB at start (idle) | ${rss[0]!.mib.toFixed(0)} |`);
  console.log(`| RSS MiB, second minute: mean (max) | ${mib(second)} |`);
  console.log(`| RSS MiB, last minute: mean (max) | ${mib(last)} |`);
  console.log(`| last minute vs second | ${second.length && last.length ? `${(((mean(last) - mean(second)) / mean(second)) * 100).toFixed(1)} %` : ""} |`);
  console.log(`| errors (reports, polls, /health) | ${errors} |`);
  console.log(`\nRSS every 10 s (MiB): ${rss.map((s) => s.mib.toFixed(0)).join(" ")}`);
} finally {
  await server.stop();
  await db.drop();
}
