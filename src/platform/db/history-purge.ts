import type { PoolClient } from "pg";

/**
 * Deletes the history of devices being deleted: their raw points and rollups (the series rows go
 * with the devices, by cascade). Here rather than in the telemetry feature because accounts and
 * devices, which delete devices, come before it. Call it in the deleting transaction, after
 * locking the devices' state rows, so an ingest batch in flight finishes first.
 */
export async function deleteHistoryOf(db: PoolClient, deviceIds: readonly string[]): Promise<void> {
  for (const table of ["telemetry_points", "telemetry_5m", "telemetry_1h"]) {
    await db.query(`DELETE FROM ${table} WHERE series_id IN (SELECT id FROM telemetry_series WHERE device_id = ANY($1::uuid[]))`, [deviceIds]);
  }
}
