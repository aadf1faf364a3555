import type { Pool } from "pg";
import type { Logger } from "pino";
import { AppError, isDatabaseUnavailable } from "../../../platform/errors.js";
import { Topic, type EventBus } from "../../../platform/event-bus.js";
import type { JobQueue } from "../../../platform/jobs.js";
import type { NotificationService } from "../../notifications/notification.service.js";
import type { WidgetService } from "../../dashboards/widget.service.js";

export const SCHEDULE_TASK = "schedule.execute";
export const scheduleJobKey = (id: string) => `schedule:${id}`;

interface Claimed {
  id: string;
  owner_id: string;
  widget_id: string;
  kind: string;
  state: unknown;
  label: string | null;
  execute_at: Date;
}

/**
 * Runs schedules and timers: each one is a durable job due at its time (added in the same
 * transaction as the schedule, see ScheduleService), so it fires once across processes and
 * restarts. The job claims the row first (PENDING -> EXECUTED), so a cancel that races it gets a
 * CONFLICT instead of both succeeding; then it switches the widget through the app's own path.
 */
export class ScheduleRunner {
  constructor(
    private readonly pool: Pool,
    private readonly widgets: WidgetService,
    private readonly notifications: NotificationService,
    private readonly bus: EventBus,
    private readonly log: Logger,
    jobs: JobQueue,
  ) {
    jobs.register(SCHEDULE_TASK, (payload) => this.run((payload as { scheduleId: string }).scheduleId));
  }

  /**
   * The command first, then the mark: a crash between them leaves the schedule PENDING and its job
   * runs again (setting the same value twice is harmless), so EXECUTED always means "switched".
   */
  async run(scheduleId: string): Promise<void> {
    const { rows } = await this.pool.query<Claimed>(
      `SELECT id, owner_id, widget_id, kind, state, label, execute_at FROM schedules WHERE id = $1 AND status = 'PENDING'`,
      [scheduleId],
    );
    const schedule = rows[0];
    if (!schedule) return; // cancelled, or its widget was deleted
    const name = schedule.label ? `"${schedule.label}"` : schedule.kind === "TIMER" ? "A timer" : "A schedule";
    let command;
    try {
      command = await this.widgets.setState(schedule.owner_id, schedule.widget_id, schedule.state);
    } catch (error) {
      if (!(error instanceof AppError) || isDatabaseUnavailable(error)) throw error; // storage trouble: the job retries
      const failed = await this.finish(schedule.id, "FAILED", error.message);
      if (failed) await this.announce(schedule, "schedule_failed", `${name} failed`, error.message, { reason: error.message });
      return;
    }
    const result = `set ${command.widget.virtualPin} to ${command.value}`;
    if (await this.finish(schedule.id, "EXECUTED", result)) {
      await this.announce(schedule, "schedule_executed", `${name} ran`, `${command.widget.label}: ${result}`, { state: command.value });
    }
  }

  /** Marks the outcome once; false when another run (or a cancel) got there first. */
  private async finish(id: string, status: "EXECUTED" | "FAILED", result: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE schedules SET status = $2, result = $3, executed_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'PENDING'`,
      [id, status, result],
    );
    return rowCount === 1;
  }

  private async announce(schedule: Claimed, type: string, title: string, message: string, extra: Record<string, unknown>): Promise<void> {
    const data = { scheduleId: schedule.id, widgetId: schedule.widget_id, kind: schedule.kind, executeAt: schedule.execute_at.toISOString(), ...extra };
    await this.notifications.notify(schedule.owner_id, { type, title, message, data: data as never });
    this.bus.publish(Topic.ScheduleRan, { userId: schedule.owner_id, ok: type === "schedule_executed", data: data as never });
    this.log.debug({ scheduleId: schedule.id, type }, "schedule ran");
  }
}
