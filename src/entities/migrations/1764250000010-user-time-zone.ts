import type { MigrationInterface, QueryRunner } from "typeorm";

/** The IANA zone a user reads times in: daily and weekly history buckets start at its midnight. */
export class UserTimeZone1764250000010 implements MigrationInterface {
  name = "UserTimeZone1764250000010";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN time_zone text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN time_zone`);
  }
}
