import { Firmware } from "../../entities/firmware.entity.js";
import { Release } from "../../entities/release.entity.js";
import { Ota1764250000011 } from "../../entities/migrations/1764250000011-ota.js";
import { OtaWebhookEvents1764250000012 } from "../../entities/migrations/1764250000012-ota-webhook-events.js";
import { Topic } from "../../platform/event-bus.js";
import { defineModule, type PlatformServices } from "../../platform/services.js";
import { FirmwareResolver } from "../../resolvers/ota/firmware.resolver.js";
import { FirmwareVersionResolver } from "../../resolvers/ota/firmware-version.resolver.js";
import { ReleaseEventsResolver } from "../../resolvers/ota/release-events.resolver.js";
import { ReleaseDeviceResolver, ReleaseResolver } from "../../resolvers/ota/release.resolver.js";
import { otaRoutes } from "../../../rest-compat/ota.routes.js";
import type { WebhooksServices } from "../automation/webhooks/webhooks.module.js";
import type { DevicesServices } from "../devices/devices.module.js";
import type { NotificationsServices } from "../notifications/notifications.module.js";
import type { TelemetryServices } from "../telemetry/telemetry.module.js";
import { FirmwareStore } from "./firmware.store.js";
import { OtaEffects } from "./ota-effects.js";
import { OtaReports } from "./ota-reports.js";
import { ReleaseService } from "./release.service.js";
import { Rollout } from "./rollout.js";

/** Over-the-air updates: firmware images, staged releases with an abort threshold (docs/ota.md). */
export interface OtaServices {
  readonly firmwares: FirmwareStore;
  readonly releases: ReleaseService;
}

declare module "../../platform/services.js" {
  interface Services extends OtaServices {}
}

type Deps = PlatformServices & DevicesServices & TelemetryServices & NotificationsServices & WebhooksServices;

export const otaModule = defineModule({
  name: "ota",
  entities: [Firmware, Release],
  migrations: [Ota1764250000011, OtaWebhookEvents1764250000012],
  resolvers: [FirmwareResolver, ReleaseResolver, ReleaseDeviceResolver, ReleaseEventsResolver, FirmwareVersionResolver],
  routes: [otaRoutes],
  create(deps: Deps): OtaServices {
    const { pool, dataSource, bus, jobs, config } = deps;
    const log = deps.log.child({ area: "ota" });
    const effects = new OtaEffects({ ...deps, log });
    const firmwares = new FirmwareStore(pool, config.ota.maxFirmwareBytes);
    new Rollout(pool, effects, config.ota.timeoutMs, jobs); // registers the tick task
    const reports = new OtaReports(pool, effects);
    // Interpreted once, by the process that stored the report.
    bus.subscribe(Topic.TelemetryReported, ({ deviceId, data }, { remote }) => {
      if (remote) return;
      reports.onReport(deviceId, data).catch((error: unknown) => log.warn({ err: error, deviceId }, "could not apply an update report"));
    });
    return { firmwares, releases: new ReleaseService(dataSource, pool, firmwares, effects, config.ota.timeoutMs) };
  },
});
