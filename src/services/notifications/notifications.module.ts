import { Automation1764250000003 } from "../../entities/migrations/1764250000003-automation.js";
import { Notification } from "../../entities/notification.entity.js";
import { defineModule, type PlatformServices } from "../../platform/services.js";
import { NotificationEventsResolver, NotificationResolver } from "../../resolvers/notifications/notification.resolver.js";
import { notificationStreamRoutes } from "../../../rest-compat/notifications-stream.routes.js";
import { AlertService } from "./alerts.service.js";
import { NotificationService } from "./notification.service.js";

/** A user's notifications, and the status alerts (in-app and mail) that produce some of them. */
export interface NotificationsServices {
  readonly notifications: NotificationService;
}

declare module "../../platform/services.js" {
  interface Services extends NotificationsServices {}
}

export const notificationsModule = defineModule({
  name: "notifications",
  entities: [Notification],
  // Also creates the webhooks table, which the webhooks module owns.
  migrations: [Automation1764250000003],
  resolvers: [NotificationResolver, NotificationEventsResolver],
  routes: [notificationStreamRoutes],
  create({ pool, bus, mailer, log, config }: PlatformServices): NotificationsServices {
    const notifications = new NotificationService(pool, bus);
    new AlertService(pool, notifications, mailer, log, bus, config.statusAlertCooldownMs);
    return { notifications };
  },
});
