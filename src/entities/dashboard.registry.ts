/** Dashboards, widgets and schedules: entities and migrations of that area. */
import { Dashboard } from "./dashboard.entity.js";
import { Dashboards1764250000002 } from "./migrations/1764250000002-dashboards.js";
import { Schedule } from "./schedule.entity.js";
import { Widget } from "./widget.entity.js";

export const dashboardEntities: Function[] = [Dashboard, Widget, Schedule];
export const dashboardMigrations: Function[] = [Dashboards1764250000002];
