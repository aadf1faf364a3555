/** Notifications, webhooks and telemetry history: resolver classes of that area. */
export const automationResolvers: Function[] = [];
