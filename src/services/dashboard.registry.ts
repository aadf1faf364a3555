import type { CoreServices } from "../app/services.js";
import { DashboardService } from "./dashboards/dashboard.service.js";
import { ScheduleService } from "./automation/schedules/schedule.service.js";
import { WidgetService } from "./dashboards/widget.service.js";

/** Dashboards, widgets, control and schedules: the services of that area. */
export interface DashboardServices {
  readonly dashboards: DashboardService;
  readonly widgets: WidgetService;
  readonly schedules: ScheduleService;
}

export function createDashboardServices(core: CoreServices): DashboardServices {
  const widgets = new WidgetService(core.dataSource, core.directory, core.state, core.config.limits.keyLength, core.bus);
  return {
    dashboards: new DashboardService(core.dataSource, core.bus),
    widgets,
    schedules: new ScheduleService(core.dataSource, widgets),
  };
}
