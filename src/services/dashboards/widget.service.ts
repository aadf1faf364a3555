import type { Pool } from "pg";
import { In, type DataSource, type EntityManager } from "typeorm";
import type { JsonValue } from "../../platform/json.js";
import { Widget } from "../../entities/widget.entity.js";
import { lockDashboard, renumber } from "./dashboard-layout.js";
import { publishWidget } from "./widget-events.js";
import { widgetsOfDashboards } from "./dashboard-rows.js";
import type { DeviceDirectory } from "../devices/device-directory.service.js";
import type { DeviceStateData } from "../telemetry/device-state.model.js";
import type { DeviceStateService } from "../telemetry/device-state.service.js";
import { badInput, notFound } from "../../platform/errors.js";
import type { EventBus } from "../../platform/event-bus.js";
import {
  checkConfig,
  checkKey,
  checkPin,
  checkSize,
  checkText,
  checkType,
  idOf,
  isOutput,
  lowestFreePin,
  MAX_WIDGETS_PER_DASHBOARD,
  normalizeState,
} from "./widget.rules.js";

export interface NewWidget {
  dashboardId: string;
  type: string;
  label: string;
  deviceId?: string | null;
  key?: string | null;
  virtualPin?: string | null;
  config?: Record<string, unknown> | null;
  width?: number | null;
  height?: number | null;
}

export interface WidgetChanges {
  label?: string | null;
  config?: Record<string, unknown> | null;
  key?: string | null;
  width?: number | null;
  height?: number | null;
}

export interface WidgetCommand {
  widget: Widget;
  value: 0 | 1;
  state: DeviceStateData;
  at: number; // epoch ms
}

const widgetNotFound = () => notFound("widget");

/** Groups widgets (already in order) by one of their ids. */
function groupBy(widgets: Widget[], key: "dashboardId" | "deviceId"): Map<string, Widget[]> {
  const groups = new Map<string, Widget[]>();
  for (const w of widgets) {
    const group = groups.get(w[key]!);
    if (group) group.push(w);
    else groups.set(w[key]!, [w]);
  }
  return groups;
}

/**
 * Widgets: binding rules, layout slots and the switch of output widgets. Every look-up is scoped by
 * owner, so another user's dashboard, device or widget is NOT_FOUND, the same answer as an unknown
 * id; input checks that need no row (type, pin syntax) may refuse first with BAD_USER_INPUT.
 */
export class WidgetService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: Pool,
    private readonly directory: DeviceDirectory,
    private readonly state: DeviceStateService,
    private readonly keyLength: number,
    private readonly bus: EventBus,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Widget);
  }

  /** The caller's widgets among `ids`, by lower-cased id; malformed or foreign ids are absent. */
  async findOwned(ownerId: string, ids: readonly string[]): Promise<Map<string, Widget>> {
    const valid = [...new Set(ids.map(idOf).filter((id) => id !== undefined))];
    const found = valid.length === 0 ? [] : await this.repo.findBy({ ownerId, id: In(valid) });
    return new Map(found.map((w) => [w.id, w]));
  }

  async requireOwned(ownerId: string, id: string): Promise<Widget> {
    const widget = (await this.findOwned(ownerId, [id])).get(idOf(id) ?? "");
    if (!widget) throw widgetNotFound();
    return widget;
  }

  /** Widgets of the caller's dashboards, each list in layout order. */
  async byDashboards(ownerId: string, dashboardIds: readonly string[]): Promise<Map<string, Widget[]>> {
    return groupBy(await widgetsOfDashboards(this.pool, ownerId, dashboardIds), "dashboardId");
  }

  /** Widgets bound to the caller's devices. */
  async byDevices(ownerId: string, deviceIds: readonly string[]): Promise<Map<string, Widget[]>> {
    const found = await this.repo.find({ where: { ownerId, deviceId: In([...new Set(deviceIds)]) }, order: { createdAt: "ASC", id: "ASC" } });
    return groupBy(found, "deviceId");
  }

  async create(ownerId: string, input: NewWidget): Promise<Widget> {
    const created = await this.dataSource.transaction(async (m) => {
      const dashboardId = await lockDashboard(m, ownerId, idOf(input.dashboardId));
      const deviceId = input.deviceId == null ? null : await this.lockDevice(m, ownerId, input.deviceId);
      const type = checkType(input.type);
      const label = checkText(input.label, "label");
      const config = checkConfig(input.config);
      const width = checkSize(input.width, "width");
      const height = checkSize(input.height, "height");
      let key: string | null = null;
      let virtualPin: string | null = null;
      if (isOutput(type)) {
        if (!deviceId) throw badInput(`a ${type} widget needs a deviceId`);
        if (input.key != null) throw badInput(`a ${type} widget is bound by virtualPin, not key`);
        virtualPin = input.virtualPin == null ? await this.freePin(m, deviceId) : checkPin(input.virtualPin);
      } else {
        if (input.virtualPin != null) throw badInput("virtualPin is only for output widgets (led)");
        if (deviceId && input.key == null) throw badInput(`a ${type} widget bound to a device needs a key`);
        if (!deviceId && input.key != null) throw badInput("key needs a deviceId");
        if (input.key != null) key = checkKey(input.key, this.keyLength);
      }
      await renumber(m, dashboardId);
      const count = await m.getRepository(Widget).countBy({ dashboardId });
      if (count >= MAX_WIDGETS_PER_DASHBOARD) throw badInput(`at most ${MAX_WIDGETS_PER_DASHBOARD} widgets per dashboard`);
      const row = { ownerId, dashboardId, deviceId, type, label, key, virtualPin, config, order: count, width, height };
      return m.save(m.create(Widget, row));
    });
    publishWidget(this.bus, created, false);
    return created;
  }

  async update(ownerId: string, id: string, changes: WidgetChanges): Promise<Widget> {
    const widget = await this.requireOwned(ownerId, id);
    if (changes.label != null) widget.label = checkText(changes.label, "label");
    if (changes.config != null) widget.config = checkConfig(changes.config);
    if (changes.width != null) widget.width = checkSize(changes.width, "width");
    if (changes.height != null) widget.height = checkSize(changes.height, "height");
    if (changes.key != null) {
      if (isOutput(widget.type)) throw badInput(`a ${widget.type} widget is bound by virtualPin, not key`);
      if (!widget.deviceId) throw badInput("key needs a deviceId");
      widget.key = checkKey(changes.key, this.keyLength);
    }
    const saved = await this.repo.save(widget);
    publishWidget(this.bus, saved, false);
    return saved;
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    const widgetId = idOf(id);
    if (!widgetId) throw widgetNotFound();
    const gone = await this.dataSource.transaction(async (m) => {
      const rows: Array<{ dashboard_id: string }> = await m.query(`SELECT dashboard_id FROM widgets WHERE id = $1 AND owner_id = $2`, [widgetId, ownerId]);
      if (rows.length === 0) throw widgetNotFound();
      await lockDashboard(m, ownerId, rows[0]!.dashboard_id);
      const widget = await m.getRepository(Widget).findOneBy({ id: widgetId, ownerId });
      const deleted = await m.getRepository(Widget).delete({ id: widgetId, ownerId });
      if (!deleted.affected || !widget) throw widgetNotFound();
      await renumber(m, rows[0]!.dashboard_id);
      return widget;
    });
    publishWidget(this.bus, gone, true);
    return true;
  }

  /**
   * The app's switch: the level becomes a desired value of the widget's pin, which the device picks up
   * on its next poll. Reported values are the device's alone and are never written here.
   */
  async setState(ownerId: string, id: string, state: unknown): Promise<WidgetCommand> {
    const widget = await this.requireOwned(ownerId, id);
    if (!isOutput(widget.type) || !widget.deviceId || !widget.virtualPin) {
      throw badInput(`only output widgets (led) take a state; this one is a ${widget.type}`);
    }
    const value = normalizeState(state);
    const device = await this.directory.findById(widget.deviceId);
    if (!device) throw widgetNotFound(); // the device was deleted a moment ago: its widgets went with it
    const at = Date.now();
    const values: Record<string, JsonValue> = { [widget.virtualPin]: value };
    return { widget, value, state: await this.state.setDesired(device, values, at), at };
  }

  /**
   * The caller's device, row-locked so that concurrent creations on one device take turns and never
   * pick the same free pin.
   */
  private async lockDevice(m: EntityManager, ownerId: string, id: string): Promise<string> {
    const valid = idOf(id);
    const rows: Array<{ id: string }> = valid
      ? await m.query(`SELECT id FROM devices WHERE id = $1 AND owner_id = $2 FOR NO KEY UPDATE`, [valid, ownerId])
      : [];
    if (rows.length === 0) throw notFound("device");
    return rows[0]!.id;
  }

  private async freePin(m: EntityManager, deviceId: string): Promise<string> {
    const rows: Array<{ virtual_pin: string }> = await m.query(`SELECT DISTINCT virtual_pin FROM widgets WHERE device_id = $1 AND virtual_pin IS NOT NULL`, [
      deviceId,
    ]);
    return lowestFreePin(rows.map((r) => r.virtual_pin));
  }
}
