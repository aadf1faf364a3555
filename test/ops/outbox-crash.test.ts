import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/fixture.js";
import { addDevice, addWebhook, signUp } from "../helpers/graphql.js";
import { databasePerTest, kill9, startProcess } from "../helpers/processes.js";
import { http } from "../helpers/server.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

/**
 * The transactional outbox with real processes: a report's webhook delivery is committed with the
 * report, so a process killed with -9 between the commit and the delivery's enqueue loses none.
 * The window is held open on purpose: a transaction holding a lock on `webhooks` stops A's fan-out
 * (it reads the table) while its reports commit and are answered 200.
 */

const db = databasePerTest(3);

const count = async (query: string) => (await db.sql.query<{ n: number }>(query)).rows[0]!.n;

describe("side effects of acknowledged reports after kill -9", () => {
  it("every report answered 200 gets its telemetry_update delivery, once, from the next process", async () => {
    const rx = await new WebhookReceiver().start();
    const hook = rx.on("/in");
    const env = { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32", WEBHOOK_CACHE_MS: "0" };
    const locker = await db.sql.connect();
    try {
      const a = await startProcess(db.url, env);
      const user = await signUp(a.url);
      const device = await addDevice(a.url, user);
      await addWebhook(a.url, user, hook, ["telemetry_update"]);
      const report = (n: number) => http(a.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data: { n } } });

      // The pipeline works: five reports, five deliveries, nothing left in the outbox.
      for (let n = 0; n < 5; n++) expect((await report(n)).status).toBe(200);
      await eventually("5 deliveries", () => rx.at("/in").length === 5, 30_000);
      expect(await count(`SELECT count(*)::int AS n FROM event_outbox`)).toBe(0);

      // The window: fan-out blocked, reports still committed and acknowledged.
      await locker.query(`BEGIN`);
      await locker.query(`LOCK TABLE webhooks IN ACCESS EXCLUSIVE MODE`);
      const acknowledged: number[] = [];
      for (let n = 5; n < 25; n++) if ((await report(n)).status === 200) acknowledged.push(n);
      expect(acknowledged).toHaveLength(20);
      expect(await count(`SELECT count(*)::int AS n FROM webhook_deliveries`)).toBe(5); // none of the 20 enqueued yet
      await kill9(a);
      await locker.query(`ROLLBACK`);

      // B hands over what A left behind: each of the 20 delivered once, no row twice.
      const b = await startProcess(db.url, env);
      await eventually("25 deliveries received", () => rx.at("/in").length >= 25, 60_000);
      const received = rx.at("/in").map((r) => (JSON.parse(r.body) as { data: { data: { n: number } } }).data.data.n);
      expect([...received].sort((x, y) => x - y)).toEqual([...Array(25).keys()]);
      expect(await count(`SELECT count(*)::int AS n FROM webhook_deliveries`)).toBe(25);
      expect(await count(`SELECT count(*)::int AS n FROM event_outbox`)).toBe(0);
      // Nothing more arrives later (a second hand-over of the same entry would show here).
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(rx.at("/in")).toHaveLength(25);
      expect((await http(b.url, "GET", "/health")).status).toBe(200);
    } finally {
      await locker.query(`ROLLBACK`).catch(() => undefined);
      locker.release();
      await rx.close();
    }
  }, 180_000);
});
