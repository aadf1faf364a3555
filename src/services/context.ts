import type { Pool } from "pg";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import type { Config } from "../config.js";
import { poolOf } from "../db/data-source.js";
import { DeviceDirectory } from "./device-directory.service.js";
import { DeviceStateService } from "./device-state.service.js";
import { DeviceService } from "./device.service.js";
import { EventBus, Topic } from "./event-bus.js";
import { HistoryService } from "./history.service.js";
import { PresenceService } from "./presence.service.js";
import { StateWriter } from "./state-writer.js";

/** Every service of one server process, wired once. Adapters (REST, GraphQL) receive this. */
export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly dataSource: DataSource;
  readonly pool: Pool;
  readonly bus: EventBus;
  readonly directory: DeviceDirectory;
  readonly devices: DeviceService;
  readonly state: DeviceStateService;
  readonly presence: PresenceService;
  readonly history: HistoryService;
  stop(): Promise<void>;
}

export function createServices(config: Config, dataSource: DataSource, log: Logger): Services {
  const pool = poolOf(dataSource);
  // An idle client that loses its connection emits here; without a listener the process would exit.
  pool.on("error", (error) => log.warn({ err: error.message }, "database connection lost"));
  const bus = new EventBus();
  bus.onError((error) => log.error({ err: error }, "event subscriber failed"));
  const directory = new DeviceDirectory(pool);
  let state: DeviceStateService | undefined;
  const writer = new StateWriter(pool, (results) => state!.onCommitted(results));
  state = new DeviceStateService(writer, bus);
  const presence = new PresenceService(pool, directory, bus, log, {
    offlineMs: config.offlineTimeoutMs,
    flushMs: config.lastSeenFlushMs,
  });
  bus.subscribe(Topic.DeviceCredentialsChanged, ({ deviceId }) => {
    directory.forget(deviceId);
    state!.forget(deviceId);
  });
  presence.start();
  return {
    config,
    log,
    dataSource,
    pool,
    bus,
    directory,
    devices: new DeviceService(pool, bus),
    state,
    presence,
    history: new HistoryService(pool),
    stop: () => presence.stop(),
  };
}
