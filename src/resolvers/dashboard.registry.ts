/** Dashboards, widgets, control and schedules: resolver classes of that area. */
export const dashboardResolvers: Function[] = [];
