import type { Pool } from "pg";
import type { Logger } from "pino";
import { AppError, isDatabaseUnavailable } from "../../../platform/errors.js";
import { Topic, type EventBus } from "../../../platform/event-bus.js";
import type { JobQueue } from "../../../platform/jobs.js";
import type { JsonValue } from "../../../platform/json.js";
import { sameValue } from "../../telemetry/device-state.model.js";
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

/** What a run did to the widget: set `pin` to `value`. */
interface Switched {
  label: string;
  pin: string | null;
  value: JsonValue;
}

/** The widget's pin as stored now: the pending command's value if there is one, else the reported one. */
const PIN_NOW = `SELECT w.virtual_pin AS pin, (ds.desired ? w.virtual_pin) AS commanded, ds.desired -> w.virtual_pin -> 'value' AS desired, ds.reported -> w.virtual_pin AS reported
   FROM widgets w JOIN device_state ds ON ds.device_id = w.device_id WHERE w.id = $1`;

/**
 * Runs schedules and timers: each one is a durable job due at its time (added in the same
 * transaction as the schedule, see ScheduleService), so it fires once across processes and
 * restarts. It switches the widget through the app's own path, then marks the row once,
 * conditional on PENDING, so a cancel that races it gets a CONFLICT instead of both succeeding.
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
    jobs.register(SCHEDULE_TASK, (payload, helpers) => this.run((payload as { scheduleId: string }).scheduleId, helpers.job.attempts));
  }

  /**
   * The command first, then the mark: a crash between them leaves the schedule PENDING and its job
   * runs again (released by the job queue's heartbeat sweep), so EXECUTED always means "switched".
   * The command goes through the state writer's group commit, which cannot share a transaction
   * with the mark; instead a run after the first (`attempt` > 1) looks at the pin first, and when
   * it already holds the schedule's state (the crashed run's command was committed) it only marks
   * the row: the widget is switched once, not twice.
   */
  async run(scheduleId: string, attempt = 1): Promise<void> {
    const { rows } = await this.pool.query<Claimed>(
      `SELECT id, owner_id, widget_id, kind, state, label, execute_at FROM schedules WHERE id = $1 AND status = 'PENDING'`,
      [scheduleId],
    );
    const schedule = rows[0];
    if (!schedule) return; // cancelled, or its widget was deleted
    const name = schedule.label ? `"${schedule.label}"` : schedule.kind === "TIMER" ? "A timer" : "A schedule";
    let command: Switched;
    try {
      command = (attempt > 1 && (await this.alreadySwitched(schedule))) || (await this.switch(schedule));
    } catch (error) {
      if (!(error instanceof AppError) || isDatabaseUnavailable(error)) throw error; // storage trouble: the job retries
      const failed = await this.finish(schedule.id, "FAILED", error.message);
      if (failed) await this.announce(schedule, "schedule_failed", `${name} failed`, error.message, { reason: error.message });
      return;
    }
    const result = `set ${command.pin} to ${JSON.stringify(command.value)}`;
    if (await this.finish(schedule.id, "EXECUTED", result)) {
      await this.announce(schedule, "schedule_executed", `${name} ran`, `${command.label}: ${result}`, { state: command.value });
    }
  }

  private async switch(schedule: Claimed): Promise<Switched> {
    const command = await this.widgets.setState(schedule.owner_id, schedule.widget_id, schedule.state);
    return { label: command.widget.label, pin: command.widget.virtualPin, value: command.value };
  }

  /** The widget, when its pin already holds the schedule's state as committed (not as cached). */
  private async alreadySwitched(schedule: Claimed): Promise<Switched | undefined> {
    const { rows } = await this.pool.query<{ pin: string | null; commanded: boolean | null; desired: JsonValue; reported: JsonValue }>(PIN_NOW, [
      schedule.widget_id,
    ]);
    const now = rows[0];
    if (!now?.pin) return undefined; // not an output any more: the normal path says why
    const value = now.commanded ? now.desired : now.reported;
    if (value === null || !sameValue(value, schedule.state as JsonValue)) return undefined;
    const widget = await this.widgets.requireOwned(schedule.owner_id, schedule.widget_id);
    this.log.info({ scheduleId: schedule.id }, "a schedule run again after a crash found its command already stored");
    return { label: widget.label, pin: widget.virtualPin, value: schedule.state as JsonValue };
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
