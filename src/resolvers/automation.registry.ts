/** Notifications, webhooks, rules and telemetry history: resolver classes of that area. */
import { HistoryResolver } from "./telemetry/history.resolver.js";
import { NotificationResolver } from "./notifications/notification.resolver.js";
import { RuleActionResolver, RuleResolver } from "./automation/rule.resolver.js";
import { WebhookDeliveryResolver } from "./automation/webhook-delivery.resolver.js";
import { WebhookResolver } from "./automation/webhook.resolver.js";

export const automationResolvers: Function[] = [NotificationResolver, WebhookResolver, HistoryResolver, RuleResolver, RuleActionResolver, WebhookDeliveryResolver];
