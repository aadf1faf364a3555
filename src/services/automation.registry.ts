import type { CoreServices } from "./context.js";
import { NotificationService } from "./notification.service.js";
import { WebhookService } from "./webhook.service.js";

/** Notifications, webhooks and history queries: the services of that area. */
export interface AutomationServices {
  readonly notifications: NotificationService;
  readonly webhooks: WebhookService;
  /** Called at shutdown, before the database closes. */
  stopAutomation?: () => Promise<void>;
}

export function createAutomationServices(core: CoreServices): AutomationServices {
  return {
    notifications: new NotificationService(core.pool, core.bus),
    webhooks: new WebhookService(core.dataSource, core.pool, core.devices, core.config.secretKey),
  };
}
