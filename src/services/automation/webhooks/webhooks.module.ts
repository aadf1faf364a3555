import { WebhookDeliveries1764250000005 } from "../../../entities/migrations/1764250000005-webhook-deliveries.js";
import { WebhookDelivery } from "../../../entities/webhook-delivery.entity.js";
import { Webhook } from "../../../entities/webhook.entity.js";
import { defineModule, type PlatformServices } from "../../../platform/services.js";
import { WebhookDeliveryResolver } from "../../../resolvers/automation/webhook-delivery.resolver.js";
import { WebhookResolver } from "../../../resolvers/automation/webhook.resolver.js";
import type { DevicesServices } from "../../devices/devices.module.js";
import type { NotificationsServices } from "../../notifications/notifications.module.js";
import { createWebhookDeliveries, type WebhookDeliveryService } from "./webhook-delivery.service.js";
import { WebhookService } from "./webhook.service.js";

/** Signed POSTs of events to the user's URLs, with retries, a delivery log and an SSRF guard. */
export interface WebhooksServices {
  readonly webhooks: WebhookService;
  /** Events to signed POSTs (its own worker pool); `enqueueFor` for other features' events. */
  readonly webhookDeliveries: WebhookDeliveryService;
}

declare module "../../../platform/services.js" {
  interface Services extends WebhooksServices {}
}

export const webhooksModule = defineModule({
  name: "webhooks",
  entities: [Webhook, WebhookDelivery],
  migrations: [WebhookDeliveries1764250000005],
  resolvers: [WebhookResolver, WebhookDeliveryResolver],
  routes: [],
  create(deps: PlatformServices & DevicesServices & NotificationsServices): WebhooksServices {
    const webhooks = new WebhookService(deps.dataSource, deps.pool, deps.devices, deps.config.secretKey);
    return { webhooks, webhookDeliveries: createWebhookDeliveries(deps, webhooks, deps.notifications) };
  },
  stop: ({ webhookDeliveries }) => webhookDeliveries.stop(),
});
