import type { Pool, PoolClient } from "pg";
import type { DesiredEntry, JsonValue } from "../../entities/device-state.entity.js";
import { isDatabaseUnavailable } from "../../platform/errors.js";
import type { DeviceStateData } from "./device-state.model.js";

/** How the StateWriter's rows travel: state rows read and written, batches as JSON documents. */

/** Committed states of devices, read from the database. */
export async function loadStates(db: Pool | PoolClient, ids: string[]): Promise<Map<string, DeviceStateData>> {
  const { rows } = await db.query<{
    device_id: string;
    reported: Record<string, JsonValue>;
    reported_ts: Record<string, number>;
    reported_at: Date | null;
    desired: Record<string, DesiredEntry>;
    version: number;
    points_day: number;
    points_today: number;
  }>(`SELECT device_id, reported, reported_ts, reported_at, desired, version, points_day, points_today FROM device_state WHERE device_id = ANY($1::uuid[])`, [
    ids,
  ]);
  return new Map(
    rows.map((r) => [
      r.device_id,
      {
        deviceId: r.device_id,
        reported: r.reported,
        reportedTs: r.reported_ts,
        reportedAt: r.reported_at ? r.reported_at.getTime() : null,
        desired: r.desired,
        version: r.version,
        pointsDay: r.points_day,
        pointsToday: r.points_today,
      },
    ]),
  );
}

/** The batch could not be turned into one JSON document (too deep for JSON.stringify, too long). */
class UnserializableBatch extends Error {}

export function documentOf(rows: unknown[]): string {
  try {
    return JSON.stringify(rows);
  } catch (error) {
    throw new UnserializableBatch(error instanceof Error ? error.message : String(error));
  }
}

/**
 * A failure caused by what the batch holds rather than by the database: data exceptions (22xxx:
 * NUL, invalid text or JSON) and program limits (54xxx: nesting too deep, value too large). Other
 * failures do not point at one member; halving them would only multiply failing transactions.
 */
export function isRefusedContent(error: unknown): boolean {
  if (error instanceof UnserializableBatch) return true;
  if (isDatabaseUnavailable(error)) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|54)[0-9A-Z]{3}$/.test(code);
}

export function rowOf(state: DeviceStateData, baseVersion: number) {
  return {
    id: state.deviceId,
    reported: state.reported,
    reported_ts: state.reportedTs,
    reported_at: state.reportedAt,
    desired: state.desired,
    version: state.version,
    base: baseVersion,
    points_day: state.pointsDay,
    points_today: state.pointsToday,
  };
}
