import { DataSource } from "typeorm";
import { poolOf } from "./data-source.js";

/** Any constant shared by every process of the project; PostgreSQL advisory locks are per database. */
const MIGRATION_LOCK = 0x7468_6e78; // "thnx"

/**
 * Runs the pending migrations under a session-level advisory lock, so processes starting at once on
 * an empty database take turns: the first migrates, the others wait, then find nothing to do
 * (without it two of three concurrent first starts died on "relation already exists").
 *
 * Migrations and the wait for the lock may take longer than the request pool allows a query, so
 * they run on a connection of their own without its timeouts.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const options = dataSource.options as typeof dataSource.options & { extra?: Record<string, unknown> };
  // Two connections: one holds the lock, the other runs the migrations.
  const migrator = new DataSource({ ...options, extra: { max: 2, connectionTimeoutMillis: options.extra?.connectionTimeoutMillis } } as typeof options);
  await migrator.initialize();
  const client = await poolOf(migrator).connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      const applied = await migrator.runMigrations({ transaction: "each" });
      return applied.map((m) => m.name);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
    await migrator.destroy();
  }
}
