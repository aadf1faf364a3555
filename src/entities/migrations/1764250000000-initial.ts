import type { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1764250000000 implements MigrationInterface {
  name = "Initial1764250000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        username text NOT NULL,
        password_hash text,
        full_name text,
        role text NOT NULL DEFAULT 'user',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Case-insensitive uniqueness, the way people type their names.
    await q.query(`CREATE UNIQUE INDEX users_email_lower ON users (lower(email))`);
    await q.query(`CREATE UNIQUE INDEX users_username_lower ON users (lower(username))`);

    await q.query(`
      CREATE TABLE devices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL,
        type text,
        location text,
        token_hash text NOT NULL,
        status text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX devices_owner ON devices (owner_id)`);
    await q.query(`CREATE UNIQUE INDEX devices_token_hash ON devices (token_hash)`);
    // The offline sweep looks only at online devices.
    await q.query(`CREATE INDEX devices_online_last_seen ON devices (last_seen_at) WHERE status = 'online'`);

    await q.query(`
      CREATE TABLE device_state (
        device_id uuid PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        reported jsonb NOT NULL DEFAULT '{}',
        reported_ts jsonb NOT NULL DEFAULT '{}',
        reported_at timestamptz,
        desired jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 0
      )`);

    // History: narrow rows, no primary key and no foreign key (see device.service deleteDevice).
    await q.query(`
      CREATE TABLE telemetry (
        device_id uuid NOT NULL,
        key text NOT NULL,
        ts timestamptz NOT NULL,
        num double precision,
        val jsonb
      )`);
    await q.query(`CREATE INDEX telemetry_device_key_ts ON telemetry (device_id, key, ts)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE telemetry`);
    await q.query(`DROP TABLE device_state`);
    await q.query(`DROP TABLE devices`);
    await q.query(`DROP TABLE users`);
  }
}
