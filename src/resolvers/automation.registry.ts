/** Notifications, webhooks, rules and telemetry history: resolver classes of that area. */
import { HistoryResolver } from "./telemetry/history.resolver.js";
import { NotificationResolver } from "./notifications/notification.resolver.js";
import { RuleActionResolver, RuleResolver } from "./rule.resolver.js";
import { WebhookDeliveryResolver } from "./webhook-delivery.resolver.js";
import { WebhookResolver } from "./webhook.resolver.js";

export const automationResolvers: Function[] = [NotificationResolver, WebhookResolver, HistoryResolver, RuleResolver, RuleActionResolver, WebhookDeliveryResolver];
