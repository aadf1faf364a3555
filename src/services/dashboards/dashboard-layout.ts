import type { EntityManager } from "typeorm";
import { notFound } from "../../platform/errors.js";

/** Steps of a transaction that changes widget positions, shared by dashboards and widgets. */

/** Locks the caller's dashboard row for the transaction: widget positions change only under it. */
export async function lockDashboard(m: EntityManager, ownerId: string, id: string | undefined): Promise<string> {
  const rows: Array<{ id: string }> = id ? await m.query(`SELECT id FROM dashboards WHERE id = $1 AND owner_id = $2 FOR UPDATE`, [id, ownerId]) : [];
  if (rows.length === 0) throw notFound("dashboard");
  return rows[0]!.id;
}

/** Positions 0..n-1 in the current order, closing gaps (a deleted device takes its widgets along). */
export async function renumber(m: EntityManager, dashboardId: string): Promise<void> {
  await m.query(
    `UPDATE widgets w SET position = r.n - 1
       FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM widgets WHERE dashboard_id = $1) r
      WHERE w.id = r.id AND w.position <> r.n - 1`,
    [dashboardId],
  );
}
