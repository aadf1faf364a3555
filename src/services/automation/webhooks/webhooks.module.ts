import { WebhookDeliveries1764250000005 } from "../../../entities/migrations/1764250000005-webhook-deliveries.js";
import { WebhookDelivery } from "../../../entities/webhook-delivery.entity.js";
import { Webhook } from "../../../entities/webhook.entity.js";
import { defineModule, type PlatformServices } from "../../../platform/services.js";
import { WebhookDeliveryResolver } from "../../../resolvers/automation/webhook-delivery.resolver.js";
import { WebhookResolver } from "../../../resolvers/automation/webhook.resolver.js";
import type { DevicesServices } from "../../devices/devices.module.js";
import type { NotificationsServices } from "../../notifications/notifications.module.js";
import { JobQueue } from "../../../platform/jobs.js";
import type { NotificationService } from "../../notifications/notification.service.js";
import { WebhookDeliveryService } from "./webhook-delivery.service.js";
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

/**
 * The service with its own worker pool, listening to the bus. The pool starts at once (its tasks are
 * registered here): graphile-worker copes with the main pool migrating its schema at the same time.
 */
function createWebhookDeliveries(core: PlatformServices, webhooks: WebhookService, notifications: NotificationService): WebhookDeliveryService {
  const url = (core.dataSource.options as { url?: string }).url;
  if (!url) throw new Error("webhook deliveries need the database URL of the data source");
  const log = core.log.child({ area: "webhooks" });
  const queue = new JobQueue(url, log, { pollIntervalMs: core.config.jobPollMs, concurrency: core.config.webhooks.concurrency });
  const service = new WebhookDeliveryService({ pool: core.pool, log, webhooks, notifications, queue }, core.config.webhooks);
  service.listen(core.bus);
  service.consume(core.outbox);
  service.start().catch((error: unknown) => log.error({ err: error }, "the webhook delivery worker did not start; other processes deliver meanwhile"));
  return service;
}
