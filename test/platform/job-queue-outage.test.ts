import pg from "pg";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobWorkerHeartbeats1764250000008 } from "../../src/entities/migrations/1764250000008-job-worker-heartbeats.js";
import { JobQueue } from "../../src/platform/jobs.js";
import { eventually } from "../helpers/fixture.js";
import { createTestDatabase } from "../helpers/server.js";

/**
 * A job that ends while its database refuses connections. graphile-worker's own completion would
 * leave a rejected promise nobody handles (in a server: the process ends; here: vitest reports it
 * and the run fails). The queue must survive it, start a new worker pool once the database is back,
 * and run the job again (its end was never recorded).
 */

let db: { url: string; drop(): Promise<void> };
let admin: pg.Client;
const name = () => new URL(db.url).pathname.slice(1);

beforeEach(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  const setup = new pg.Client({ connectionString: db.url });
  await setup.connect();
  await new JobWorkerHeartbeats1764250000008().up({ query: (sql: string) => setup.query(sql) } as never);
  await setup.end();
});

afterEach(async () => {
  await admin.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`);
  await admin.end();
  await db.drop();
});

describe("the job queue when the database goes away under a running job", () => {
  it("survives the failed completion, comes back with a new pool and runs the job again", async () => {
    const queue = new JobQueue(db.url, pino({ level: "silent" }), { pollIntervalMs: 200, concurrency: 1 });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    queue.register("outage.task", async () => {
      runs++;
      await gate;
    });
    await queue.start();
    try {
      await queue.add("outage.task", {});
      await eventually("the job to run", () => runs === 1, 20_000);

      // The database refuses every connection, and drops the ones it has.
      await admin.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name()]);
      release(); // the job ends now: recording that fails
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await admin.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`);

      // A new pool; the old one's jobs are released by the heartbeat sweep; the job runs again and is recorded.
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        await eventually("the job to run again", () => runs >= 2, 60_000);
        await eventually(
          "the job to be recorded as done",
          async () => (await check.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs`)).rows[0].n === 0,
          30_000,
        );
      } finally {
        await check.end();
      }
      expect(runs).toBe(2);
    } finally {
      await queue.stop();
    }
  }, 120_000);
});
