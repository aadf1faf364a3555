import type { MigrationInterface, QueryRunner } from "typeorm";

const BEFORE = `'telemetry_update', 'device_online', 'device_offline', 'state_confirmed', 'schedule_executed', 'all'`;
const AFTER = `${BEFORE}, 'ota_updated', 'ota_failed', 'release_aborted'`;

/** Webhooks may subscribe to the update events (docs/ota.md). */
export class OtaWebhookEvents1764250000012 implements MigrationInterface {
  name = "OtaWebhookEvents1764250000012";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check`);
    await q.query(`ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (cardinality(events) > 0 AND events <@ ARRAY[${AFTER}])`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhooks DROP CONSTRAINT webhooks_events_check`);
    await q.query(`ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check CHECK (cardinality(events) > 0 AND events <@ ARRAY[${BEFORE}])`);
  }
}
