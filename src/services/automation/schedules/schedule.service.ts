import type { DataSource } from "typeorm";
import { Schedule, ScheduleKind, ScheduleStatus } from "../../../entities/schedule.entity.js";
import { AppError, badInput, notFound } from "../../../platform/errors.js";
import { checkOptionalText, idOf, isOutput, normalizeState } from "../../dashboards/widget.rules.js";
import { SCHEDULE_TASK, scheduleJobKey } from "./schedule-runner.js";
import type { WidgetService } from "../../dashboards/widget.service.js";

const MAX_AHEAD_MS = 366 * 86_400_000; // one year, leap day included
const MAX_TIMER_SECONDS = 86_400; // 24 h
const MAX_PENDING_PER_WIDGET = 100;

/**
 * Schedules and timers of output widgets: a state to set at a time. This service stores them
 * (PENDING) together with a durable job due at their time; ScheduleRunner executes them.
 */
export class ScheduleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly widgets: WidgetService,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Schedule);
  }

  /** Every schedule of the caller's widget, soonest first, whatever its status. */
  async list(ownerId: string, widgetId: string): Promise<Schedule[]> {
    const widget = await this.widgets.requireOwned(ownerId, widgetId);
    return this.repo.find({ where: { ownerId, widgetId: widget.id }, order: { executeAt: "ASC", id: "ASC" } });
  }

  /** The earliest pending schedule of each of the caller's widgets among `widgetIds`, in one query. */
  async nextOf(ownerId: string, widgetIds: readonly string[]): Promise<Map<string, Schedule>> {
    const found = await this.repo
      .createQueryBuilder("s")
      .distinctOn(["s.widget_id"])
      .where("s.owner_id = :ownerId AND s.widget_id IN (:...ids) AND s.status = :status", {
        ownerId,
        ids: [...new Set(widgetIds)],
        status: ScheduleStatus.PENDING,
      })
      .orderBy("s.widget_id")
      .addOrderBy("s.execute_at")
      .addOrderBy("s.id")
      .getMany();
    return new Map(found.map((s) => [s.widgetId, s]));
  }

  createAt(ownerId: string, widgetId: string, state: unknown, executeAt: Date, label?: string | null): Promise<Schedule> {
    return this.create(ownerId, widgetId, state, label, () => {
      const ahead = executeAt.getTime() - Date.now();
      if (ahead <= 0) throw badInput("executeAt must be in the future");
      if (ahead > MAX_AHEAD_MS) throw badInput("executeAt must be within one year");
      return { kind: ScheduleKind.SCHEDULE, executeAt };
    });
  }

  createTimer(ownerId: string, widgetId: string, state: unknown, durationSeconds: number, label?: string | null): Promise<Schedule> {
    return this.create(ownerId, widgetId, state, label, () => {
      if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > MAX_TIMER_SECONDS) {
        throw badInput(`durationSeconds must be 1 to ${MAX_TIMER_SECONDS}`);
      }
      return { kind: ScheduleKind.TIMER, executeAt: new Date(Date.now() + durationSeconds * 1000) };
    });
  }

  /** Only a pending schedule can be cancelled; one that has already ended is a CONFLICT. */
  async cancel(ownerId: string, id: string): Promise<Schedule> {
    const valid = idOf(id);
    const schedule = valid ? await this.repo.findOneBy({ id: valid, ownerId }) : null;
    if (!schedule) throw notFound("schedule");
    const conflict = (status: string) => new AppError("CONFLICT", `only a pending schedule can be cancelled; this one is ${status}`);
    if (schedule.status !== ScheduleStatus.PENDING) throw conflict(schedule.status);
    // Conditional, so a cancellation racing the executor (or another cancel) cannot both win.
    const result = await this.repo.update(
      { id: schedule.id, status: ScheduleStatus.PENDING },
      { status: ScheduleStatus.CANCELLED, result: "cancelled by the user" },
    );
    if (!result.affected) throw conflict("no longer pending");
    // The job would find the row cancelled and do nothing; removing it just keeps the queue clean.
    await this.dataSource.query(`SELECT graphile_worker.remove_job($1)`, [scheduleJobKey(schedule.id)]);
    return (await this.repo.findOneBy({ id: schedule.id }))!;
  }

  private async create(
    ownerId: string,
    widgetId: string,
    rawState: unknown,
    rawLabel: string | null | undefined,
    when: () => { kind: ScheduleKind; executeAt: Date },
  ): Promise<Schedule> {
    const widget = await this.widgets.requireOwned(ownerId, widgetId);
    if (!isOutput(widget.type)) throw badInput(`only output widgets (led) can be scheduled; this one is a ${widget.type}`);
    const state = normalizeState(rawState);
    const { kind, executeAt } = when();
    const label = checkOptionalText(rawLabel, "label", 100);
    // The row and its job commit together: no schedule without a job, no job without a schedule.
    return this.dataSource.transaction(async (m) => {
      // Counted under the widget's row lock, so concurrent creates cannot pass the cap together.
      const locked: unknown[] = await m.query(`SELECT 1 FROM widgets WHERE id = $1 FOR NO KEY UPDATE`, [widget.id]);
      if (locked.length === 0) throw notFound("widget");
      const pending = await m.countBy(Schedule, { widgetId: widget.id, status: ScheduleStatus.PENDING });
      if (pending >= MAX_PENDING_PER_WIDGET) throw badInput(`at most ${MAX_PENDING_PER_WIDGET} pending schedules per widget`);
      const saved = await m.save(m.create(Schedule, { ownerId, widgetId: widget.id, kind, state, executeAt, label, status: ScheduleStatus.PENDING }));
      await m.query(`SELECT graphile_worker.add_job($1, json_build_object('scheduleId', $2::text), run_at := $3, job_key := $4, max_attempts := 5)`, [
        SCHEDULE_TASK,
        saved.id,
        executeAt,
        scheduleJobKey(saved.id),
      ]);
      return saved;
    });
  }
}
