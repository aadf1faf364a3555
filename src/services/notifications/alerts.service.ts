import type { Pool } from "pg";
import type { Logger } from "pino";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { Mailer } from "../../platform/mailer.js";
import type { NotificationService } from "./notification.service.js";

/**
 * Turns device status transitions into notifications, with a cooldown per device and kind so a
 * flapping device does not spam; and mails a copy of every notification to users who enabled
 * email alerts. Each process handles only the events it published itself, so nothing is sent twice.
 */
export class AlertService {
  constructor(
    private readonly pool: Pool,
    private readonly notifications: NotificationService,
    private readonly mailer: Mailer,
    private readonly log: Logger,
    bus: EventBus,
    private readonly cooldownMs: number,
  ) {
    bus.subscribe(Topic.DeviceStatusChanged, (event, { remote }) => {
      if (!remote) void this.onStatus(event).catch((error: Error) => log.warn({ err: error.message }, "status alert failed"));
    });
    bus.subscribe(Topic.NotificationAdded, (event, { remote }) => {
      if (!remote) void this.mail(event.userId, event.notification).catch((error: Error) => log.warn({ err: error.message }, "alert mail failed"));
    });
  }

  private async onStatus(event: { deviceId: string; ownerId: string; status: "online" | "offline"; timestamp: string }): Promise<void> {
    const type = `device_${event.status}`;
    const { rows } = await this.pool.query<{ name: string; recent: boolean }>(
      `SELECT d.name, EXISTS (
                SELECT 1 FROM notifications n
                 WHERE n.user_id = d.owner_id AND n.type = $2 AND n.data->>'deviceId' = d.id::text
                   AND n.created_at > now() - make_interval(secs => $3)) AS recent
         FROM devices d WHERE d.id = $1::uuid`,
      [event.deviceId, type, this.cooldownMs / 1000],
    );
    const device = rows[0];
    if (!device || device.recent) return;
    await this.notifications.notify(event.ownerId, {
      type,
      title: `${device.name} is ${event.status}`,
      message: event.status === "online" ? `${device.name} is back in contact.` : `${device.name} has not been in contact for a while.`,
      data: { deviceId: event.deviceId, status: event.status, at: event.timestamp },
    });
  }

  private async mail(userId: string, notification: { title: string; message: string }): Promise<void> {
    const { rows } = await this.pool.query<{ email: string }>(`SELECT email FROM users WHERE id = $1 AND notify_enabled AND notify_email`, [userId]);
    if (!rows[0]) return;
    await this.mailer.send({ to: rows[0].email, subject: `ThingsNXT: ${notification.title}`, text: notification.message });
    this.log.debug({ userId }, "alert mailed");
  }
}
