import type { FeatureModule } from "../platform/services.js";
import { accountsModule } from "../services/accounts/accounts.module.js";
import { rulesModule } from "../services/automation/rules/rules.module.js";
import { schedulesModule } from "../services/automation/schedules/schedules.module.js";
import { webhooksModule } from "../services/automation/webhooks/webhooks.module.js";
import { dashboardsModule } from "../services/dashboards/dashboards.module.js";
import { devicesModule } from "../services/devices/devices.module.js";
import { notificationsModule } from "../services/notifications/notifications.module.js";
import { mqttModule } from "../services/mqtt/mqtt.module.js";
import { otaModule } from "../services/ota/ota.module.js";
import { consoleModule } from "../services/console/console.module.js";
import { telemetryModule } from "../services/telemetry/telemetry.module.js";

/**
 * Every feature, in dependency order: a module may import the ones before it, never the ones after
 * (those reach it through events). Adding a feature means adding its manifest here, once.
 */
export const modules = [
  accountsModule,
  devicesModule,
  telemetryModule,
  dashboardsModule,
  notificationsModule,
  schedulesModule,
  webhooksModule,
  rulesModule,
  mqttModule,
  otaModule,
  consoleModule,
] as const satisfies ReadonlyArray<FeatureModule<never, unknown>>;

const all = modules as ReadonlyArray<FeatureModule<never, unknown>>;

export const entities: Function[] = all.flatMap((m) => m.entities);
/** Migrations run in the order of their timestamps (the class names end with it). */
export const migrations: Function[] = all.flatMap((m) => m.migrations).sort((a, b) => a.name.slice(-13).localeCompare(b.name.slice(-13)));
export const resolvers: Function[] = all.flatMap((m) => m.resolvers);
export const routes = all.flatMap((m) => m.routes);
