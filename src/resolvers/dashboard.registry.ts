/** Dashboards, widgets, control and schedules: resolver classes of that area. */
import { DashboardResolver } from "./dashboard.resolver.js";
import { ScheduleResolver } from "./schedule.resolver.js";
import { DeviceWidgetsResolver, WidgetResolver } from "./widget.resolver.js";

export const dashboardResolvers: Function[] = [DashboardResolver, WidgetResolver, DeviceWidgetsResolver, ScheduleResolver];
