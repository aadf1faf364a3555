import { JobWorkerHeartbeats1764250000008 } from "../../../entities/migrations/1764250000008-job-worker-heartbeats.js";
import { Schedule } from "../../../entities/schedule.entity.js";
import { defineModule, type PlatformServices } from "../../../platform/services.js";
import { ScheduleResolver } from "../../../resolvers/automation/schedule.resolver.js";
import type { DashboardsServices } from "../../dashboards/dashboards.module.js";
import type { NotificationsServices } from "../../notifications/notifications.module.js";
import { ScheduleRunner } from "./schedule-runner.js";
import { ScheduleService } from "./schedule.service.js";

/** Timers that switch an output widget at a given time, run as durable jobs. */
export interface SchedulesServices {
  readonly schedules: ScheduleService;
}

declare module "../../../platform/services.js" {
  interface Services extends SchedulesServices {}
}

export const schedulesModule = defineModule({
  name: "schedules",
  entities: [Schedule],
  // The job queue's heartbeat table (platform/jobs.ts): the platform has no manifest, and schedules
  // are the first feature whose work runs as durable jobs.
  migrations: [JobWorkerHeartbeats1764250000008],
  resolvers: [ScheduleResolver],
  routes: [],
  create({ dataSource, pool, widgets, notifications, bus, log, jobs }: PlatformServices & DashboardsServices & NotificationsServices): SchedulesServices {
    new ScheduleRunner(pool, widgets, notifications, bus, log, jobs); // registers its job task
    return { schedules: new ScheduleService(dataSource, widgets) };
  },
});
