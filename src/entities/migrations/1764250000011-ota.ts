import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Over-the-air updates: firmware images (their bytes in 256 KiB rows, so every process reads them
 * and a download streams a slice at a time), releases and where each device is in one.
 */
export class Ota1764250000011 implements MigrationInterface {
  name = "Ota1764250000011";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE firmwares (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
        version text NOT NULL CHECK (length(version) BETWEEN 1 AND 31),
        size integer NOT NULL CHECK (size > 0),
        sha256 text NOT NULL,
        md5 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (owner_id, title, version)
      )`);
    await q.query(`
      CREATE TABLE firmware_chunks (
        firmware_id uuid NOT NULL REFERENCES firmwares(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (firmware_id, seq)
      )`);
    // Uncompressed out-of-line storage: substring() of a chunk then reads only the slice it returns.
    await q.query(`ALTER TABLE firmware_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
    await q.query(`
      CREATE TABLE releases (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        firmware_id uuid NOT NULL REFERENCES firmwares(id),
        status text NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'COMPLETED', 'ABORTED', 'CANCELLED')),
        rollout_percent integer NOT NULL CHECK (rollout_percent BETWEEN 1 AND 100),
        max_per_minute integer NOT NULL CHECK (max_per_minute >= 1),
        abort_failure_percent integer NOT NULL CHECK (abort_failure_percent BETWEEN 1 AND 100),
        min_finished integer NOT NULL CHECK (min_finished >= 1),
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX releases_owner ON releases (owner_id, created_at DESC)`);
    await q.query(`CREATE INDEX releases_firmware ON releases (firmware_id)`);
    await q.query(`
      CREATE TABLE release_devices (
        release_id uuid NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
        device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        rank text NOT NULL,
        state text NOT NULL DEFAULT 'PENDING' CHECK (state IN
          ('PENDING', 'OFFERED', 'DOWNLOADING', 'DOWNLOADED', 'UPDATING', 'UPDATED', 'FAILED', 'ROLLED_BACK', 'TIMED_OUT')),
        open boolean NOT NULL DEFAULT true,
        updating_seen boolean NOT NULL DEFAULT false,
        from_version text,
        error text,
        offered_at timestamptz,
        -- Offered and not finished by then: TIMED_OUT. Moved on when a paused release resumes.
        expires_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (release_id, device_id)
      )`);
    // A device is in at most one open (ACTIVE or PAUSED) release.
    await q.query(`CREATE UNIQUE INDEX release_devices_one_open ON release_devices (device_id) WHERE open`);
    await q.query(`CREATE INDEX release_devices_order ON release_devices (release_id, state, rank)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE release_devices`);
    await q.query(`DROP TABLE releases`);
    await q.query(`DROP TABLE firmware_chunks`);
    await q.query(`DROP TABLE firmwares`);
  }
}
