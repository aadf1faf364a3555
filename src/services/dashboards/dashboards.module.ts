import { Dashboard } from "../../entities/dashboard.entity.js";
import { Dashboards1764250000002 } from "../../entities/migrations/1764250000002-dashboards.js";
import { Widget } from "../../entities/widget.entity.js";
import { defineModule, type PlatformServices } from "../../platform/services.js";
import { DashboardResolver } from "../../resolvers/dashboards/dashboard.resolver.js";
import { WidgetEventsResolver } from "../../resolvers/dashboards/widget-events.resolver.js";
import { DeviceWidgetsResolver, WidgetResolver } from "../../resolvers/dashboards/widget.resolver.js";
import { widgetRoutes } from "../../../rest-compat/widget.routes.js";
import type { DevicesServices } from "../devices/devices.module.js";
import type { TelemetryServices } from "../telemetry/telemetry.module.js";
import { DashboardService } from "./dashboard.service.js";
import { WidgetService } from "./widget.service.js";

/** Dashboards and their widgets; an output widget switches its device's pin. */
export interface DashboardsServices {
  readonly dashboards: DashboardService;
  readonly widgets: WidgetService;
}

declare module "../../platform/services.js" {
  interface Services extends DashboardsServices {}
}

export const dashboardsModule = defineModule({
  name: "dashboards",
  entities: [Dashboard, Widget],
  // Also creates the schedules table, which the schedules module owns.
  migrations: [Dashboards1764250000002],
  resolvers: [DashboardResolver, WidgetResolver, DeviceWidgetsResolver, WidgetEventsResolver],
  routes: [widgetRoutes],
  create({ dataSource, pool, directory, state, config, bus }: PlatformServices & DevicesServices & TelemetryServices): DashboardsServices {
    return {
      dashboards: new DashboardService(dataSource, pool, bus),
      widgets: new WidgetService(dataSource, pool, directory, state, config.limits.keyLength, bus),
    };
  },
});
