import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * How each device is attached: the transport of its last contact, since when it is connected, and
 * for a held connection (MQTT) the session that holds it, so a session that ends late cannot mark
 * offline a device that already reconnected elsewhere.
 */
export class DeviceConnections1764250000007 implements MigrationInterface {
  name = "DeviceConnections1764250000007";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE devices
        ADD COLUMN transport text NOT NULL DEFAULT 'http' CHECK (transport IN ('http', 'mqtt')),
        ADD COLUMN connected_since timestamptz,
        ADD COLUMN connection_id uuid
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices DROP COLUMN transport, DROP COLUMN connected_since, DROP COLUMN connection_id`);
  }
}
