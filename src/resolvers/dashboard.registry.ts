/** Dashboards, widgets, control and schedules: resolver classes of that area. */
import { DashboardResolver } from "./dashboards/dashboard.resolver.js";
import { ScheduleResolver } from "./automation/schedule.resolver.js";
import { DeviceWidgetsResolver, WidgetResolver } from "./dashboards/widget.resolver.js";

export const dashboardResolvers: Function[] = [DashboardResolver, WidgetResolver, DeviceWidgetsResolver, ScheduleResolver];
