import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * One row per running job worker pool, beaten every few seconds (src/platform/jobs.ts): a pool whose
 * beat is old belongs to a process that died, and its locked jobs are released for the others.
 */
export class JobWorkerHeartbeats1764250000008 implements MigrationInterface {
  name = "JobWorkerHeartbeats1764250000008";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_worker_heartbeats (
        worker_id text PRIMARY KEY,
        process text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        beat_at timestamptz NOT NULL DEFAULT now()
      )
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_worker_heartbeats`);
  }
}
