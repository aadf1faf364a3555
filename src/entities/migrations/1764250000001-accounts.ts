import type { MigrationInterface, QueryRunner } from "typeorm";

/** Accounts: profile, sessions (refresh tokens, access-token deny-list), password resets, server secrets. */
export class Accounts1764250000001 implements MigrationInterface {
  name = "Accounts1764250000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users
        ADD COLUMN phone text,
        ADD COLUMN bio text,
        ADD COLUMN notify_enabled boolean NOT NULL DEFAULT true,
        ADD COLUMN notify_email boolean NOT NULL DEFAULT false,
        ADD COLUMN notify_push boolean NOT NULL DEFAULT true,
        ADD COLUMN tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity'`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)`);
    await q.query(`CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`);
    await q.query(`
      CREATE TABLE revoked_access_tokens (
        jti uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX revoked_access_tokens_user ON revoked_access_tokens (user_id)`);
    await q.query(`
      CREATE TABLE password_resets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX password_resets_user ON password_resets (user_id)`);
    await q.query(`CREATE TABLE app_secrets (name text PRIMARY KEY, value text NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE app_secrets, password_resets, revoked_access_tokens, refresh_tokens`);
    await q.query(`ALTER TABLE users DROP COLUMN phone, DROP COLUMN bio, DROP COLUMN notify_enabled,
      DROP COLUMN notify_email, DROP COLUMN notify_push, DROP COLUMN tokens_valid_after`);
  }
}
