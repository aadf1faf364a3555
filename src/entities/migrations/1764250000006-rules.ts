import type { MigrationInterface, QueryRunner } from "typeorm";

/** Rules: "when device D's key K <op> value [for S seconds] then <action>". */
export class Rules1764250000006 implements MigrationInterface {
  name = "Rules1764250000006";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        enabled boolean NOT NULL DEFAULT true,
        device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        key text NOT NULL,
        op text NOT NULL CHECK (op IN ('GT', 'GTE', 'LT', 'LTE', 'EQ', 'NEQ', 'CHANGED')),
        value jsonb,
        for_seconds int NOT NULL DEFAULT 0 CHECK (for_seconds BETWEEN 0 AND 86400),
        action_type text NOT NULL CHECK (action_type IN ('SET_STATE', 'NOTIFY', 'WEBHOOK')),
        action_params jsonb NOT NULL DEFAULT '{}',
        -- Own columns, not params: deleting the commanded device or the webhook deletes the rule.
        target_device_id uuid REFERENCES devices(id) ON DELETE CASCADE,
        webhook_id uuid REFERENCES webhooks(id) ON DELETE CASCADE,
        active boolean NOT NULL DEFAULT false,
        active_since timestamptz,
        last_fired_at timestamptz,
        -- Loop protection: firings in the current one-minute window.
        window_start timestamptz,
        window_count int NOT NULL DEFAULT 0,
        suspended_at timestamptz,
        suspended_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((action_type = 'SET_STATE') = (target_device_id IS NOT NULL)),
        CHECK ((action_type = 'WEBHOOK') = (webhook_id IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX rules_owner ON rules (owner_id, created_at)`);
    // The engine loads a device's rules by device_id; the cascades from devices and webhooks need the others.
    await q.query(`CREATE INDEX rules_device ON rules (device_id)`);
    await q.query(`CREATE INDEX rules_target ON rules (target_device_id) WHERE target_device_id IS NOT NULL`);
    await q.query(`CREATE INDEX rules_webhook ON rules (webhook_id) WHERE webhook_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rules`);
  }
}
