/** Notifications and webhooks: entities and migrations of that area. */
import { Automation1764250000003 } from "./migrations/1764250000003-automation.js";
import { Notification } from "./notification.entity.js";
import { Webhook } from "./webhook.entity.js";

export const automationEntities: Function[] = [Notification, Webhook];
export const automationMigrations: Function[] = [Automation1764250000003];
