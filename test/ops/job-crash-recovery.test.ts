import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/fixture.js";
import { addDevice, addWebhook, gql, signUp, type Account } from "../helpers/graphql.js";
import { databasePerTest, kill9, startProcess as startProcessOn } from "../helpers/processes.js";
import { http, startTestServer } from "../helpers/server.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

/**
 * Crash recovery of durable jobs with real processes: A (`src/main.ts`, as `npm start` runs it) holds
 * jobs when it is killed with SIGKILL; B, started after, must run them within a bound (the job
 * queue's heartbeat sweep), once. Without the sweep, graphile-worker keeps a dead process's jobs
 * locked for four hours.
 */

const db = databasePerTest(2);
const startProcess = (env: Record<string, string> = {}) => startProcessOn(db.url, env);

const count = async (query: string, params: unknown[] = []) => (await db.sql.query<{ n: number }>(query, params)).rows[0]!.n;

describe("jobs held by a process killed with -9", () => {
  it("20 webhook deliveries in flight on A are all delivered by B within a minute, one log row each", async () => {
    const rx = await new WebhookReceiver().start();
    // While A runs, the receiver answers nothing: every delivery stays in flight on A. After the kill, 300 ms.
    let holdMs = 600_000;
    const answered = new Set<string>();
    const hook = rx.on("/slow", (req: IncomingMessage, res: ServerResponse) => {
      const id = String(req.headers["x-webhook-id"]);
      res.on("finish", () => answered.add(id));
      const timer = setTimeout(() => res.end("ok"), holdMs);
      res.on("close", () => clearTimeout(timer));
    });
    // 40 workers: the per-owner share (half) lets all 20 be sent at once, as by 20 owners.
    const env = { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32", WEBHOOK_CACHE_MS: "0", WEBHOOK_TIMEOUT_MS: "30000", WEBHOOK_CONCURRENCY: "40" };
    try {
      const a = await startProcess(env);
      const user = await signUp(a.url);
      const device = await addDevice(a.url, user);
      await addWebhook(a.url, user, hook, ["telemetry_update"]);
      for (let i = 0; i < 20; i++) {
        const res = await http(a.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n: i } } });
        expect(res.status).toBe(200);
      }
      const inFlight = () => new Set(rx.at("/slow").map((r) => r.headers["x-webhook-id"])).size;
      await eventually("20 deliveries in flight on A", () => inFlight() === 20, 60_000);
      expect(await count(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by IS NOT NULL`)).toBe(20);

      await kill9(a);
      const killedAt = Date.now();
      holdMs = 300;
      const b = await startProcess(env);
      await eventually(
        "all 20 deliveries succeeded",
        async () => (await count(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'succeeded'`)) === 20,
        90_000,
      );
      const tookMs = Date.now() - killedAt;
      expect(tookMs).toBeLessThan(60_000);
      // One row per delivery, each answered once by the receiver (a crash may send it again, never log it twice).
      expect(await count(`SELECT count(*)::int AS n FROM webhook_deliveries`)).toBe(20);
      expect(await count(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE attempts = 1`)).toBe(20);
      expect(answered.size).toBe(20);
      // A's heartbeat rows went with its jobs; B's two pools (jobs, deliveries) beat.
      expect(await count(`SELECT count(*)::int AS n FROM job_worker_heartbeats`)).toBe(2);
      await eventually(
        "the delivery jobs to be done",
        async () => (await count(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'webhook.deliver'`)) === 0,
      );
      await http(b.url, "GET", "/health"); // B is still fine
    } finally {
      await rx.close();
    }
  }, 240_000);

  it("60 schedules due at one instant: each EXECUTED one switched its widget, and all of them run, once", async () => {
    const a = await startProcess();
    const user = await signUp(a.url);
    const widgets = await ledWidgets(a.url, user, 3, 20);
    const executeAt = new Date(Date.now() + 10_000);
    const made = await Promise.all(
      widgets.map((w) =>
        gql(
          a.url,
          `mutation ($w: ID!, $at: DateTime!) { createSchedule(widgetId: $w, state: 1, executeAt: $at) { id } }`,
          { w: w.id, at: executeAt.toISOString() },
          user.accessToken,
        ),
      ),
    );
    expect(made.every((r) => !r.errors)).toBe(true);
    expect(Date.now()).toBeLessThan(executeAt.getTime()); // all 60 were stored before they were due

    // Kill A in the middle of the burst: a few done, some running, most waiting.
    const executed = `SELECT count(*)::int AS n FROM schedules WHERE status = 'EXECUTED'`;
    await eventually("A to have run a schedule", async () => (await count(executed)) >= 1, 60_000);
    await kill9(a);

    // The invariant at the instant of the crash: EXECUTED only with the command stored.
    const atCrash = await switchedVsExecuted();
    expect(atCrash.executedNotSwitched).toBe(0);
    expect(atCrash.executed).toBeLessThan(60); // the crash did leave work behind

    const b = await startProcess();
    await eventually("all 60 schedules executed", async () => (await count(executed)) === 60, 120_000);
    const after = await switchedVsExecuted();
    expect(after).toEqual({ executed: 60, switched: 60, executedNotSwitched: 0 });
    // Exactly once: each command bumped its device's state version once (nothing else writes it here).
    const { rows } = await db.sql.query<{ version: number }>(`SELECT version FROM device_state WHERE device_id = ANY($1::uuid[])`, [
      [...new Set(widgets.map((w) => w.deviceId))],
    ]);
    expect(rows.map((r) => r.version)).toEqual([20, 20, 20]);
    expect(await count(`SELECT count(*)::int AS n FROM schedules WHERE status <> 'EXECUTED'`)).toBe(0);
    // And the API on B agrees: the pin of the last widget is on.
    const polled = await http(b.url, "GET", `/telemetry/latest?device_token=${widgets.at(-1)!.token}`);
    expect((polled.body.data as Record<string, unknown>)[widgets.at(-1)!.pin]).toBe(1);
  }, 300_000);
});

describe("the heartbeat sweep", () => {
  it("unlocks the jobs of a pool that never beat, once each, and leaves a beating pool's jobs alone", async () => {
    const server = await startTestServer({}, db.url);
    let beating: NodeJS.Timeout | undefined;
    try {
      const user = await signUp(server.url);
      const [fresh, committed, alive] = await ledWidgets(server.url, user, 1, 3);
      const at = new Date(Date.now() + 3_600_000).toISOString();
      const create = `mutation ($w: ID!, $at: DateTime!) { createSchedule(widgetId: $w, state: 1, executeAt: $at) { id } }`;
      const ids: string[] = [];
      for (const w of [fresh!, committed!, alive!]) ids.push((await gql(server.url, create, { w: w.id, at }, user.accessToken)).data.createSchedule.id);
      // As if a run had stored the command of `committed` and died before marking it.
      const set = await gql(server.url, `mutation ($id: ID!) { setWidgetState(id: $id, state: 1) { id } }`, { id: committed!.id }, user.accessToken);
      expect(set.errors).toBeUndefined();
      const version = async () =>
        (await db.sql.query<{ version: number }>(`SELECT version FROM device_state WHERE device_id = $1`, [fresh!.deviceId])).rows[0]!.version;
      const before = await version();
      // The jobs due now but locked two minutes ago: two by a pool with no heartbeat (it died before
      // its first beat, or ran a version without them), one by a pool that is still beating.
      await db.sql.query(`INSERT INTO job_worker_heartbeats (worker_id, process) VALUES ('pool-alive', 'elsewhere:1')`);
      const beat = () => db.sql.query(`UPDATE job_worker_heartbeats SET beat_at = now() WHERE worker_id = 'pool-alive'`).catch(() => undefined);
      beating = setInterval(() => void beat(), 2000);
      const lock = `UPDATE graphile_worker._private_jobs SET locked_by = $2, locked_at = now() - interval '2 minutes', run_at = now(), attempts = 1 WHERE key = $1`;
      for (const [id, pool] of [
        [ids[0]!, "pool-ghost"],
        [ids[1]!, "pool-ghost"],
        [ids[2]!, "pool-alive"],
      ]) {
        expect((await db.sql.query(lock, [`schedule:${id}`, pool])).rowCount).toBe(1);
      }
      const status = async (id: string) => (await db.sql.query<{ status: string }>(`SELECT status FROM schedules WHERE id = $1`, [id])).rows[0]!.status;
      // The next sweep (every 10 s) releases the ghost's jobs, and the same sweep passes over the live one.
      await eventually("the orphaned schedules to run", async () => (await status(ids[0]!)) === "EXECUTED" && (await status(ids[1]!)) === "EXECUTED", 60_000);
      expect(await status(ids[2]!)).toBe("PENDING");
      expect(await count(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by = 'pool-alive'`)).toBe(1);
      // One command more on the device: the fresh one's. The re-run of `committed` found its pin on and only marked it.
      expect(await version()).toBe(before + 1);
      const polled = await http(server.url, "GET", `/telemetry/latest?device_token=${fresh!.token}`);
      expect(polled.body.data).toEqual({ [fresh!.pin]: 1, [committed!.pin]: 1 });
    } finally {
      clearInterval(beating);
      await server.close();
    }
  }, 120_000);
});

/** `devices` devices with `perDevice` led widgets each, on one dashboard per device. */
async function ledWidgets(base: string, user: Account, devices: number, perDevice: number) {
  const out: Array<{ id: string; pin: string; deviceId: string; token: string }> = [];
  for (let d = 0; d < devices; d++) {
    const device = await addDevice(base, user, `dev${d}`);
    const dash = await gql(base, `mutation { createDashboard(input: { name: "D${d}" }) { id } }`, {}, user.accessToken);
    for (let i = 0; i < perDevice; i++) {
      const res = await gql(
        base,
        `mutation ($i: CreateWidgetInput!) { createWidget(input: $i) { id virtualPin } }`,
        { i: { dashboardId: dash.data.createDashboard.id, deviceId: device.id, type: "led", label: `L${i}` } },
        user.accessToken,
      );
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      out.push({ id: res.data.createWidget.id, pin: res.data.createWidget.virtualPin, deviceId: device.id, token: device.token });
    }
  }
  return out;
}

/** Widgets whose pin holds the schedule's state (a stored command, or reported), against schedules marked EXECUTED. */
async function switchedVsExecuted(): Promise<{ executed: number; switched: number; executedNotSwitched: number }> {
  const { rows } = await db.sql.query<{ executed: number; switched: number; executed_not_switched: number }>(`
    WITH s AS (
      SELECT s.status, coalesce(ds.desired -> w.virtual_pin -> 'value', ds.reported -> w.virtual_pin) = s.state AS switched
        FROM schedules s JOIN widgets w ON w.id = s.widget_id JOIN device_state ds ON ds.device_id = w.device_id
    )
    SELECT count(*) FILTER (WHERE status = 'EXECUTED')::int AS executed,
           count(*) FILTER (WHERE switched)::int AS switched,
           count(*) FILTER (WHERE status = 'EXECUTED' AND switched IS NOT TRUE)::int AS executed_not_switched
      FROM s`);
  const r = rows[0]!;
  return { executed: r.executed, switched: r.switched, executedNotSwitched: r.executed_not_switched };
}
