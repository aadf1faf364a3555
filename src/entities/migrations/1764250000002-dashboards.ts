import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Dashboards, widgets and schedules. Each row carries its owner, and the foreign keys include it
 * ((dashboard_id, owner_id), (device_id, owner_id), (widget_id, owner_id)), so the database itself
 * refuses a widget on another user's dashboard or device. Deleting a dashboard, a device or a user
 * takes their widgets, and the widgets' schedules, with them.
 */
export class Dashboards1764250000002 implements MigrationInterface {
  name = "Dashboards1764250000002";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices ADD CONSTRAINT devices_id_owner UNIQUE (id, owner_id)`);
    await q.query(`
      CREATE TABLE dashboards (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (id, owner_id)
      )`);
    await q.query(`CREATE INDEX dashboards_owner ON dashboards (owner_id, created_at)`);
    await q.query(`
      CREATE TABLE widgets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL,
        dashboard_id uuid NOT NULL,
        device_id uuid,
        type text NOT NULL,
        label text NOT NULL,
        virtual_pin text CHECK (virtual_pin ~ '^v[0-9]+$'),
        key text,
        config jsonb NOT NULL DEFAULT '{}',
        position integer NOT NULL,
        width integer NOT NULL CHECK (width BETWEEN 1 AND 12),
        height integer NOT NULL CHECK (height BETWEEN 1 AND 12),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (id, owner_id),
        FOREIGN KEY (dashboard_id, owner_id) REFERENCES dashboards (id, owner_id) ON DELETE CASCADE,
        FOREIGN KEY (device_id, owner_id) REFERENCES devices (id, owner_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX widgets_dashboard ON widgets (dashboard_id, position)`);
    // Device deletion cascades, Device.widgets and pin allocation look widgets up by device.
    await q.query(`CREATE INDEX widgets_device ON widgets (device_id) WHERE device_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL,
        widget_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('SCHEDULE', 'TIMER')),
        state jsonb NOT NULL,
        execute_at timestamptz NOT NULL,
        label text,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'EXECUTED', 'FAILED', 'CANCELLED')),
        result text,
        executed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (widget_id, owner_id) REFERENCES widgets (id, owner_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX schedules_widget ON schedules (widget_id, execute_at)`);
    // What the executor (a later issue) will scan: only pending rows, by due time.
    await q.query(`CREATE INDEX schedules_due ON schedules (execute_at) WHERE status = 'PENDING'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE schedules, widgets, dashboards`);
    await q.query(`ALTER TABLE devices DROP CONSTRAINT devices_id_owner`);
  }
}
