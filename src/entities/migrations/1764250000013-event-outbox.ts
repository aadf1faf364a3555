import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Events written in the transaction of the change that raised them (src/platform/db/outbox.ts): a
 * side effect (a webhook delivery) cannot be lost between a commit and a crash. Rows live only
 * until their consumer claims them.
 */
export class EventOutbox1764250000013 implements MigrationInterface {
  name = "EventOutbox1764250000013";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        events jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_outbox`);
  }
}
