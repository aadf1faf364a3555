import type { Widget } from "../../entities/widget.entity.js";
import { Topic, type EventBus, type WidgetSnapshot } from "../../platform/event-bus.js";
import type { JsonValue } from "../../platform/json.js";

export function snapshotOfWidget(w: Widget): WidgetSnapshot {
  return {
    id: w.id,
    ownerId: w.ownerId,
    dashboardId: w.dashboardId,
    deviceId: w.deviceId,
    type: w.type,
    label: w.label,
    key: w.key,
    virtualPin: w.virtualPin,
    config: w.config as Record<string, JsonValue>,
    order: w.order,
    width: w.width,
    height: w.height,
    createdAt: new Date(w.createdAt).toISOString(),
    updatedAt: new Date(w.updatedAt).toISOString(),
  };
}

/** Tells widgetUpdated subscribers; called after the commit. */
export function publishWidget(bus: EventBus, widget: Widget, deleted: boolean): void {
  bus.publish(Topic.WidgetChanged, { ownerId: widget.ownerId, dashboardId: widget.dashboardId, widget: snapshotOfWidget(widget), deleted });
}
