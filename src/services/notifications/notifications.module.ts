import { Automation1764250000003 } from "../../entities/migrations/1764250000003-automation.js";
import { Notification } from "../../entities/notification.entity.js";
import { Topic } from "../../platform/event-bus.js";
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
    // Raised once, in the process whose job failed: the admins hear of it (or, with none, the first account).
    bus.subscribe(Topic.MaintenanceFailed, ({ task, error }, { remote }) => {
      if (remote) return;
      notifyAdmins(task, error).catch((failure: unknown) => log.warn({ err: failure, task }, "could not notify the admins of a failed maintenance job"));
    });
    const notifyAdmins = async (task: string, error: string) => {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM users WHERE role = 'admin' UNION SELECT id FROM (SELECT id FROM users ORDER BY created_at LIMIT 1) first
          WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')`,
      );
      for (const { id } of rows) {
        await notifications.notify(id, { type: "maintenance_failed", title: `Maintenance failed: ${task}`, message: `${error.slice(0, 500)}; it is retried.` });
      }
    };
    return { notifications };
  },
});
