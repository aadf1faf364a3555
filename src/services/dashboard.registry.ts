import type { CoreServices } from "./context.js";

/** Dashboards, widgets, control and schedules: the services of that area. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DashboardServices {}

export function createDashboardServices(_core: CoreServices): DashboardServices {
  return {};
}
