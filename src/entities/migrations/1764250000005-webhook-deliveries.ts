import type { MigrationInterface, QueryRunner } from "typeorm";

/** The delivery log of webhooks (one row per event and webhook, its attempts inside). */
export class WebhookDeliveries1764250000005 implements MigrationInterface {
  name = "WebhookDeliveries1764250000005";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        attempt_log jsonb NOT NULL DEFAULT '[]',
        last_status_code int,
        last_error text,
        last_duration_ms int,
        next_attempt_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The log of a webhook, newest first (also serves the cascade when a webhook is deleted).
    await q.query(`CREATE INDEX webhook_deliveries_webhook_created ON webhook_deliveries (webhook_id, created_at DESC, id DESC)`);
    // The automatic disable looks at the last deliveries that ended, in the order they ended.
    await q.query(`CREATE INDEX webhook_deliveries_webhook_finished ON webhook_deliveries (webhook_id, finished_at DESC) WHERE finished_at IS NOT NULL`);
    // Retention: old rows go in batches.
    await q.query(`CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
  }
}
