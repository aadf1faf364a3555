import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import type { Config } from "../platform/config.js";
import { poolOf } from "../platform/db/data-source.js";
import { createGqlRateLimiter, type GqlRateLimiter } from "../schema/rate-limit.js";
import { AlertService } from "../services/notifications/alerts.service.js";
import { AuthService } from "../services/accounts/auth.service.js";
import { createAutomationServices, type AutomationServices } from "../services/automation.registry.js";
import { createDashboardServices, type DashboardServices } from "../services/dashboard.registry.js";
import { ControlService } from "../services/telemetry/control.service.js";
import { DeviceDirectory } from "../services/devices/device-directory.service.js";
import { DeviceStateService } from "../services/telemetry/device-state.service.js";
import { DeviceService } from "../services/devices/device.service.js";
import { EventBus, Topic } from "../platform/event-bus.js";
import { HistoryService } from "../services/telemetry/history.service.js";
import { JobQueue } from "../platform/jobs.js";
import { LongPollService } from "../services/telemetry/long-poll.service.js";
import { LogMailer, SmtpMailer, type Mailer } from "../platform/mailer.js";
import { PresenceService } from "../services/devices/presence.service.js";
import { ScheduleRunner } from "../services/automation/schedules/schedule-runner.js";
import { serverSecret } from "../platform/secrets.js";
import { SessionService } from "../services/accounts/session.service.js";
import { StateWriter } from "../services/telemetry/state-writer.js";

/** The services every area builds on. */
export interface CoreServices {
  readonly config: Config;
  readonly log: Logger;
  readonly dataSource: DataSource;
  readonly pool: Pool;
  readonly redis: Redis | undefined;
  readonly bus: EventBus;
  readonly directory: DeviceDirectory;
  readonly devices: DeviceService;
  readonly state: DeviceStateService;
  readonly control: ControlService;
  readonly presence: PresenceService;
  readonly history: HistoryService;
  readonly sessions: SessionService;
  readonly auth: AuthService;
  readonly mailer: Mailer;
  readonly gqlRateLimiter: GqlRateLimiter;
  readonly longPoll: LongPollService;
  /** Durable jobs: register tasks in the area factories; the worker starts after them. */
  readonly jobs: JobQueue;
}

/** Every service of one server process, wired once. Adapters (REST, GraphQL) receive this. */
export interface Services extends CoreServices, DashboardServices, AutomationServices {
  stop(): Promise<void>;
}

/**
 * @param namespace separates deployments (and test databases) that share one Redis
 */
export async function createServices(
  config: Config,
  dataSource: DataSource,
  log: Logger,
  options: { databaseUrl: string; redis?: Redis | undefined; namespace?: string },
): Promise<Services> {
  const { redis, namespace = "thingsnxt" } = options;
  const pool = poolOf(dataSource);
  // An idle client that loses its connection emits here; without a listener the process would exit.
  pool.on("error", (error) => log.warn({ err: error.message }, "database connection lost"));
  const bus = new EventBus(redis ? { client: redis, channel: `thingsnxt:${namespace}:events`, log } : undefined);
  bus.onError((error) => log.error({ err: error }, "event subscriber failed"));
  await bus.connect();
  const directory = new DeviceDirectory(pool);
  let state: DeviceStateService | undefined;
  const writer = new StateWriter(pool, (results) => state!.onCommitted(results));
  state = new DeviceStateService(writer, bus);
  const jobs = new JobQueue(options.databaseUrl, log, { pollIntervalMs: config.jobPollMs, concurrency: 5 });
  const presence = new PresenceService(pool, directory, bus, log, jobs, {
    offlineMs: config.offlineTimeoutMs,
    flushMs: config.lastSeenFlushMs,
  });
  bus.subscribe(Topic.DeviceCredentialsChanged, ({ deviceId }) => {
    directory.forget(deviceId);
    state!.forget(deviceId);
  });
  // Another process changed a device: our cached copy is behind; the next read reloads it.
  bus.subscribe(Topic.DeviceStateChanged, ({ deviceId }, { remote }) => remote && state!.forget(deviceId));
  bus.subscribe(Topic.DeviceStatusChanged, ({ deviceId, status }, { remote }) => {
    const cached = remote ? directory.peek(deviceId) : undefined;
    if (cached) cached.status = status;
  });
  const devices = new DeviceService(pool, bus, dataSource);
  const sessions = new SessionService(await serverSecret(pool, "jwt", config.jwtSecret), pool, bus, config.accessTokenTtlSeconds);
  const mailer: Mailer = config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.mailFrom) : new LogMailer(log);
  presence.start();
  const core: CoreServices = {
    config,
    log,
    dataSource,
    pool,
    redis,
    bus,
    directory,
    devices,
    state,
    control: new ControlService(devices, directory, state, config.limits),
    presence,
    history: new HistoryService(pool),
    sessions,
    auth: new AuthService(dataSource, pool, sessions, mailer, bus, config),
    mailer,
    gqlRateLimiter: createGqlRateLimiter(redis),
    longPoll: new LongPollService(state, bus),
    jobs,
  };
  const dashboards = createDashboardServices(core);
  const automation = createAutomationServices(core);
  new ScheduleRunner(pool, dashboards.widgets, automation.notifications, bus, log, jobs);
  new AlertService(pool, automation.notifications, mailer, log, bus, config.statusAlertCooldownMs);
  await jobs.start();
  await presence.schedule();
  return {
    ...core,
    ...dashboards,
    ...automation,
    stop: async () => {
      await automation.stopAutomation?.();
      await jobs.stop();
      await presence.stop();
      await bus.close();
    },
  };
}
