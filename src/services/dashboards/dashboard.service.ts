import type { Pool } from "pg";
import { In, type DataSource } from "typeorm";
import { Dashboard } from "../../entities/dashboard.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import type { EventBus } from "../../platform/event-bus.js";
import { publishWidget } from "./widget-events.js";
import { dashboardsOf, dashboardTreeOf, type DashboardTree } from "./dashboard-rows.js";
import { lockDashboard } from "./dashboard-layout.js";
import { badInput, notFound } from "../../platform/errors.js";
import { checkOptionalText, checkSize, checkText, idOf } from "./widget.rules.js";

export interface DashboardChanges {
  name?: string | null;
  description?: string | null;
}

export interface LayoutItem {
  widgetId: string;
  width?: number | null;
  height?: number | null;
}

const MAX_DASHBOARDS = 100;
const DESCRIPTION_MAX = 500;
const dashboardNotFound = () => notFound("dashboard");

/** Dashboards of one owner; every method checks ownership first and answers NOT_FOUND otherwise. */
export class DashboardService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: Pool,
    private readonly bus: EventBus,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Dashboard);
  }

  list(ownerId: string): Promise<Dashboard[]> {
    return dashboardsOf(this.pool, ownerId);
  }

  /** The owner's dashboards with their widgets, in one statement. */
  tree(ownerId: string): Promise<DashboardTree> {
    return dashboardTreeOf(this.pool, ownerId);
  }

  /** The caller's dashboards among `ids`, by lower-cased id; malformed or foreign ids are absent. */
  async findOwned(ownerId: string, ids: readonly string[]): Promise<Map<string, Dashboard>> {
    const valid = [...new Set(ids.map(idOf).filter((id) => id !== undefined))];
    const found = valid.length === 0 ? [] : await this.repo.findBy({ ownerId, id: In(valid) });
    return new Map(found.map((d) => [d.id, d]));
  }

  async requireOwned(ownerId: string, id: string): Promise<Dashboard> {
    const dashboard = (await this.findOwned(ownerId, [id])).get(idOf(id) ?? "");
    if (!dashboard) throw dashboardNotFound();
    return dashboard;
  }

  async create(ownerId: string, input: { name: string; description?: string | null }): Promise<Dashboard> {
    const name = checkText(input.name, "name");
    const description = checkOptionalText(input.description, "description", DESCRIPTION_MAX);
    // Counted under the owner's row lock: 30 concurrent creates cannot all see 99.
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [ownerId]);
      if ((await m.countBy(Dashboard, { ownerId })) >= MAX_DASHBOARDS) throw badInput(`at most ${MAX_DASHBOARDS} dashboards per account`);
      return m.save(m.create(Dashboard, { ownerId, name, description }));
    });
  }

  async update(ownerId: string, id: string, changes: DashboardChanges): Promise<Dashboard> {
    const dashboard = await this.requireOwned(ownerId, id);
    if (changes.name != null) dashboard.name = checkText(changes.name, "name");
    if (changes.description !== undefined) dashboard.description = checkOptionalText(changes.description, "description", DESCRIPTION_MAX);
    return this.repo.save(dashboard);
  }

  /** Its widgets and their schedules go with it (ON DELETE CASCADE). */
  async delete(ownerId: string, id: string): Promise<boolean> {
    const valid = idOf(id);
    const result = valid ? await this.repo.delete({ id: valid, ownerId }) : undefined;
    if (!result?.affected) throw dashboardNotFound();
    return true;
  }

  /**
   * The array order becomes the order (0..n-1); widgets not listed follow in their previous order.
   * All or nothing: an id that is not a widget of this dashboard changes nothing.
   */
  async setLayout(ownerId: string, id: string, layout: readonly LayoutItem[]): Promise<Dashboard> {
    await this.dataSource.transaction(async (m) => {
      const dashboardId = await lockDashboard(m, ownerId, idOf(id));
      const current: Array<{ id: string }> = await m.query(`SELECT id FROM widgets WHERE dashboard_id = $1 ORDER BY position, id`, [dashboardId]);
      const members = new Set(current.map((w) => w.id));
      const listed = layout.map((item) => idOf(item.widgetId));
      if (listed.some((wid) => wid === undefined || !members.has(wid))) throw notFound("widget");
      if (new Set(listed).size !== listed.length) throw badInput("layout names a widget more than once");
      const sizes = layout.map((item) => ({
        width: item.width == null ? null : checkSize(item.width, "width"),
        height: item.height == null ? null : checkSize(item.height, "height"),
      }));
      const order = [...(listed as string[]), ...current.map((w) => w.id).filter((wid) => !listed.includes(wid))];
      await m.query(
        `UPDATE widgets w SET position = u.n - 1, width = COALESCE(u.width, w.width), height = COALESCE(u.height, w.height), updated_at = now()
           FROM unnest($1::uuid[], $2::int[], $3::int[]) WITH ORDINALITY AS u(id, width, height, n)
          WHERE w.id = u.id AND w.dashboard_id = $4`,
        [order, order.map((_, i) => sizes[i]?.width ?? null), order.map((_, i) => sizes[i]?.height ?? null), dashboardId],
      );
    });
    const dashboard = await this.requireOwned(ownerId, id);
    for (const widget of await this.dataSource.getRepository(Widget).findBy({ dashboardId: dashboard.id })) publishWidget(this.bus, widget, false);
    return dashboard;
  }
}
