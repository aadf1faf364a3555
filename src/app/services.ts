import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import type { Config } from "../platform/config.js";
import { poolOf } from "../platform/db/data-source.js";
import { createHistoryPool, createReactionsPool } from "../platform/db/lanes.js";
import { EventBus } from "../platform/event-bus.js";
import { Outbox } from "../platform/db/outbox.js";
import { JobQueue } from "../platform/jobs.js";
import { createMailer, type Mailer } from "../platform/mailer.js";
import type { FeatureModule, PlatformServices, Services } from "../platform/services.js";
import { createGqlRateLimiter } from "../schema/rate-limit.js";
import { accountsModule } from "../services/accounts/accounts.module.js";
import { rulesModule } from "../services/automation/rules/rules.module.js";
import { schedulesModule } from "../services/automation/schedules/schedules.module.js";
import { webhooksModule } from "../services/automation/webhooks/webhooks.module.js";
import { dashboardsModule } from "../services/dashboards/dashboards.module.js";
import { devicesModule } from "../services/devices/devices.module.js";
import { notificationsModule } from "../services/notifications/notifications.module.js";
import { mqttModule } from "../services/mqtt/mqtt.module.js";
import { otaModule } from "../services/ota/ota.module.js";
import { telemetryModule } from "../services/telemetry/telemetry.module.js";
import { modules } from "./modules.js";

export type { Services };

/**
 * The composition root: every service of one server process, wired once. Each module gets exactly
 * the services its `create` declares (a type error here means a module asks for one created after it).
 *
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
  const jobs = new JobQueue(options.databaseUrl, log, { pollIntervalMs: config.jobPollMs, concurrency: 5 });
  const mailer: Mailer = createMailer(config.smtpUrl, config.mailFrom, log);
  const outbox = new Outbox(pool, log.child({ area: "outbox" }));
  const platform: PlatformServices = { config, log, dataSource, pool, redis, namespace, bus, jobs, outbox, mailer, lifecycle: { drainingSince: undefined } };

  const accounts = await accountsModule.create(platform);
  const devices = await devicesModule.create(platform);
  // Charts and exports read on their own lane: they cannot take the connections device writes need.
  const historyPool = createHistoryPool(options.databaseUrl, { size: config.capacity.historyPoolSize, timeoutMs: config.capacity.historyTimeoutMs }, log);
  const telemetry = await telemetryModule.create({ ...platform, ...devices, historyPool });
  const dashboards = await dashboardsModule.create({ ...platform, ...devices, ...telemetry });
  // What reacts to reports (rules, webhooks, notifications) has a lane of its own too: a burst of
  // reactions (a fleet reconnecting) cannot take the connections the reports' commits need.
  const reactionsPool = createReactionsPool(options.databaseUrl, { size: config.capacity.reactionsPoolSize }, log);
  const reactions = { ...platform, pool: reactionsPool };
  const notifications = await notificationsModule.create(reactions);
  const schedules = await schedulesModule.create({ ...platform, ...dashboards, ...notifications });
  const webhooks = await webhooksModule.create({ ...reactions, ...devices, ...notifications });
  const rules = await rulesModule.create({ ...reactions, ...devices, ...telemetry, ...notifications, ...webhooks });
  const mqtt = await mqttModule.create({ ...platform, ...devices, ...telemetry });
  const ota = await otaModule.create({ ...platform, ...devices, ...telemetry, ...notifications, ...webhooks });
  const provided = { ...accounts, ...devices, ...telemetry, ...dashboards, ...notifications, ...schedules, ...webhooks, ...rules, ...mqtt, ...ota };

  await jobs.start();
  const lifecycle = modules as unknown as ReadonlyArray<FeatureModule<never, typeof provided>>;
  for (const module of lifecycle) await module.started?.(provided);
  outbox.start();
  return {
    ...platform,
    ...provided,
    gqlRateLimiter: createGqlRateLimiter(redis, namespace, log),
    stop: async () => {
      await outbox.stop(); // before its consumer stops
      for (const module of [...lifecycle].reverse()) await module.stop?.(provided);
      await jobs.stop();
      await bus.close();
      await Promise.all([historyPool.end(), reactionsPool.end()]);
    },
  };
}
