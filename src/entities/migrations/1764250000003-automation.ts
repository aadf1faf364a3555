import type { MigrationInterface, QueryRunner } from "typeorm";

/** Notifications and webhooks. */
export class Automation1764250000003 implements MigrationInterface {
  name = "Automation1764250000003";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        type text NOT NULL,
        title text NOT NULL,
        message text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        read_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Keyset pagination, newest first; id breaks ties between equal times.
    await q.query(`CREATE INDEX notifications_user_created ON notifications (user_id, created_at DESC, id DESC)`);
    // unreadOnly pages and unreadCount touch only unread rows, usually few among many read ones.
    await q.query(`CREATE INDEX notifications_user_unread ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL`);

    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        url text NOT NULL CHECK (length(url) <= 2048),
        events text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
          'telemetry_update', 'device_online', 'device_offline', 'state_confirmed', 'schedule_executed', 'all']),
        device_id uuid REFERENCES devices(id) ON DELETE CASCADE,
        active boolean NOT NULL DEFAULT true,
        secret_sealed text NOT NULL,
        secret_preview text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhooks_user ON webhooks (user_id)`);
    // Deleting a device cascades here; without an index that would scan every webhook.
    await q.query(`CREATE INDEX webhooks_device ON webhooks (device_id) WHERE device_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhooks`);
    await q.query(`DROP TABLE notifications`);
  }
}
