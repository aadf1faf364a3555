import type { Pool } from "pg";
import { DeviceStateRow } from "../../entities/device-state.entity.js";
import { HistoryPartitions1764250000009 } from "../../entities/migrations/1764250000009-history-partitions.js";
import { EventOutbox1764250000013 } from "../../entities/migrations/1764250000013-event-outbox.js";
import { Topic } from "../../platform/event-bus.js";
import { defineModule, type PlatformServices } from "../../platform/services.js";
import { DeviceStateResolver } from "../../resolvers/telemetry/device-state.resolver.js";
import { HistoryResolver } from "../../resolvers/telemetry/history.resolver.js";
import { TelemetryEventsResolver } from "../../resolvers/telemetry/telemetry-events.resolver.js";
import { deviceRoutes } from "../../../rest-compat/device.routes.js";
import { exportRoutes } from "../../../rest-compat/export.routes.js";
import { CsvExport } from "./csv-export.js";
import type { DevicesServices } from "../devices/devices.module.js";
import { ControlService } from "./control.service.js";
import { DeviceStateService } from "./device-state.service.js";
import { HistoryService } from "./history.service.js";
import { HistoryMaintenance } from "./history-maintenance.js";
import { IngestService } from "./ingest.service.js";
import { LongPollService } from "./long-poll.service.js";

/** Reports, the reported/desired/merged state, commands, long polls and history. */
export interface TelemetryServices {
  readonly state: DeviceStateService;
  readonly control: ControlService;
  readonly history: HistoryService;
  readonly longPoll: LongPollService;
  /** The one entry of every device transport: reports and polls of an authenticated device. */
  readonly ingest: IngestService;
  /** History as streamed CSV. */
  readonly csvExport: CsvExport;
  /** Monthly history partitions ahead, and retention. */
  readonly historyMaintenance: HistoryMaintenance;
}

declare module "../../platform/services.js" {
  interface Services extends TelemetryServices {}
}

export const telemetryModule = defineModule({
  name: "telemetry",
  entities: [DeviceStateRow],
  migrations: [HistoryPartitions1764250000009, EventOutbox1764250000013],
  resolvers: [DeviceStateResolver, HistoryResolver, TelemetryEventsResolver],
  routes: [deviceRoutes, exportRoutes],
  /** `historyPool`: the history lane (platform/db/lanes.ts); charts and exports read there, never on `pool`. */
  create(deps: PlatformServices & DevicesServices & { historyPool: Pool }): TelemetryServices {
    const { pool, historyPool, bus, config, devices, directory, presence, jobs, log, outbox } = deps;
    const state = new DeviceStateService(pool, bus, { rollups: config.history.rollups, maxPointsPerDay: config.history.maxPointsPerDay }, outbox);
    bus.subscribe(Topic.DeviceCredentialsChanged, ({ deviceId }) => state.forget(deviceId));
    // Another process changed a device: our cached copy is behind; the next read reloads it.
    bus.subscribe(Topic.DeviceStateChanged, ({ deviceId }, { remote }) => remote && state.forget(deviceId));
    const longPoll = new LongPollService(state, bus);
    const history = new HistoryService(historyPool, { rollups: config.history.rollups });
    // Events may have been lost while the Redis link was down: caches go, held polls re-read now.
    bus.subscribe(Topic.BusResynced, () => {
      state.forgetAll();
      longPoll.wakeAll();
    });
    return {
      state,
      control: new ControlService(devices, directory, state, config.limits),
      history,
      csvExport: new CsvExport(historyPool, history),
      longPoll,
      ingest: new IngestService(directory, state, presence, longPoll, config.limits, config.history),
      historyMaintenance: new HistoryMaintenance(pool, jobs, bus, log, config.history),
    };
  },
  started: ({ historyMaintenance }) => historyMaintenance.schedule(),
});
