import type { Pool } from "pg";
import { Dashboard } from "../../entities/dashboard.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import type { JsonValue } from "../../platform/json.js";

/**
 * The read paths of the dashboard tree in plain SQL. The console reads a tree of 20 dashboards x 10
 * widgets on every load; TypeORM's query building and hydration of those rows, and pg's parsing of
 * 14 columns per widget, were about a fifth of the query's CPU in the profile. A dashboard's widgets
 * come as one JSON array of arrays (one JSON.parse), dates as whole epoch ms (truncated, as pg's own
 * parser does). Rows become the same entity instances TypeORM makes: type-graphql checks `instanceof`.
 */

const ms = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

/** Widgets `w` as a JSON array of WidgetTuple, in layout order. */
const WIDGET_LIST = `COALESCE(json_agg(json_build_array(w.id, w.owner_id, w.dashboard_id, w.device_id, w.type, w.label, w.virtual_pin, w.key,
  w.config, w.position, w.width, w.height, ${ms("w.created_at")}, ${ms("w.updated_at")}) ORDER BY w.position, w.id), '[]')`;

type WidgetTuple = [
  id: string,
  ownerId: string,
  dashboardId: string,
  deviceId: string | null,
  type: string,
  label: string,
  virtualPin: string | null,
  key: string | null,
  config: Record<string, JsonValue>,
  position: number,
  width: number,
  height: number,
  createdAt: number,
  updatedAt: number,
];

interface DashboardRow {
  id: string;
  owner_id: string;
  name: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

const DASHBOARD_COLUMNS = `d.id, d.owner_id, d.name, d.description, ${ms("d.created_at")} AS created_at, ${ms("d.updated_at")} AS updated_at`;

function widgetOf(t: WidgetTuple): Widget {
  const w = new Widget();
  [w.id, w.ownerId, w.dashboardId, w.deviceId, w.type, w.label, w.virtualPin, w.key, w.config, w.order, w.width, w.height] = t;
  w.createdAt = new Date(t[12]);
  w.updatedAt = new Date(t[13]);
  return w;
}

function dashboardOf(row: DashboardRow): Dashboard {
  const d = new Dashboard();
  d.id = row.id;
  d.ownerId = row.owner_id;
  d.name = row.name;
  d.description = row.description;
  d.createdAt = new Date(row.created_at);
  d.updatedAt = new Date(row.updated_at);
  return d;
}

/** The owner's dashboards, oldest first. */
export async function dashboardsOf(pool: Pool, ownerId: string): Promise<Dashboard[]> {
  const { rows } = await pool.query<DashboardRow>({
    name: "dashboards_of_owner",
    text: `SELECT ${DASHBOARD_COLUMNS} FROM dashboards d WHERE d.owner_id = $1 ORDER BY d.created_at, d.id`,
    values: [ownerId],
  });
  return rows.map(dashboardOf);
}

export interface DashboardTree {
  dashboards: Dashboard[];
  /** Every dashboard's widgets in layout order, by dashboard id. */
  widgets: Map<string, Widget[]>;
}

/** The owner's dashboards, oldest first, with their widgets: one statement. */
export async function dashboardTreeOf(pool: Pool, ownerId: string): Promise<DashboardTree> {
  const { rows } = await pool.query<DashboardRow & { widgets: WidgetTuple[] }>({
    name: "dashboard_tree_of_owner",
    text: `SELECT ${DASHBOARD_COLUMNS}, (SELECT ${WIDGET_LIST} FROM widgets w WHERE w.dashboard_id = d.id AND w.owner_id = d.owner_id) AS widgets
             FROM dashboards d WHERE d.owner_id = $1 ORDER BY d.created_at, d.id`,
    values: [ownerId],
  });
  return { dashboards: rows.map(dashboardOf), widgets: new Map(rows.map((row) => [row.id, row.widgets.map(widgetOf)])) };
}

/** The owner's widgets on any of `dashboardIds`, in layout order (foreign ids match nothing). */
export async function widgetsOfDashboards(pool: Pool, ownerId: string, dashboardIds: readonly string[]): Promise<Widget[]> {
  const { rows } = await pool.query<{ widgets: WidgetTuple[] }>({
    name: "widgets_of_dashboards",
    text: `SELECT ${WIDGET_LIST} AS widgets FROM widgets w WHERE w.owner_id = $1 AND w.dashboard_id = ANY($2::uuid[])`,
    values: [ownerId, [...new Set(dashboardIds)]],
  });
  return rows[0]!.widgets.map(widgetOf);
}
