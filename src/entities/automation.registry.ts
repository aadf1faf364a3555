/** Notifications, webhooks and rules: entities and migrations of that area. */
import { Automation1764250000003 } from "./migrations/1764250000003-automation.js";
import { WebhookDeliveries1764250000005 } from "./migrations/1764250000005-webhook-deliveries.js";
import { Rules1764250000006 } from "./migrations/1764250000006-rules.js";
import { Notification } from "./notification.entity.js";
import { Rule } from "./rule.entity.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { Webhook } from "./webhook.entity.js";

export const automationEntities: Function[] = [Notification, Webhook, Rule, WebhookDelivery];
export const automationMigrations: Function[] = [Automation1764250000003, WebhookDeliveries1764250000005, Rules1764250000006];
