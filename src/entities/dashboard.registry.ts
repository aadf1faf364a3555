/** Dashboards, widgets and schedules: entities and migrations of that area. */
export const dashboardEntities: Function[] = [];
export const dashboardMigrations: Function[] = [];
