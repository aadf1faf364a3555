import type { CoreServices } from "../app/services.js";
import { NotificationService } from "./notifications/notification.service.js";
import { RuleEngine } from "./automation/rules/rule-engine.js";
import { RuleService } from "./automation/rules/rule.service.js";
import { createWebhookDeliveries, type WebhookDeliveryService } from "./automation/webhooks/webhook-delivery.service.js";
import { WebhookService } from "./automation/webhooks/webhook.service.js";

/** Notifications, webhooks and history queries: the services of that area. */
export interface AutomationServices {
  readonly notifications: NotificationService;
  readonly webhooks: WebhookService;
  /** Webhook deliveries: events to signed POSTs (its own worker pool); `enqueueFor` for other areas' events. */
  readonly webhookDeliveries: WebhookDeliveryService;
  readonly rules: RuleService;
  readonly ruleEngine: RuleEngine;
  /** Called at shutdown, before the database closes. */
  stopAutomation?: () => Promise<void>;
}

export function createAutomationServices(core: CoreServices): AutomationServices {
  const notifications = new NotificationService(core.pool, core.bus);
  const webhooks = new WebhookService(core.dataSource, core.pool, core.devices, core.config.secretKey);
  const webhookDeliveries = createWebhookDeliveries(core, webhooks, notifications);
  // Registers its job task and subscribes to reports: before jobs.start(), as createServices does.
  const ruleEngine = new RuleEngine(core.pool, core.bus, core.jobs, {
    control: core.control,
    notifications,
    log: core.log,
    webhooks: webhookDeliveries,
    reported: async (deviceId) => (await core.state.get(deviceId)).reported,
  });
  return {
    notifications,
    webhooks,
    webhookDeliveries,
    ruleEngine,
    rules: new RuleService(core.dataSource, core.devices, webhooks, core.config.limits, ruleEngine),
    stopAutomation: async () => {
      await ruleEngine.idle();
      await webhookDeliveries.stop(); // after the rules: their last actions may still enqueue deliveries
    },
  };
}
