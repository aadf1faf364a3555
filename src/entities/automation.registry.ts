/** Notifications and webhooks: entities and migrations of that area. */
export const automationEntities: Function[] = [];
export const automationMigrations: Function[] = [];
