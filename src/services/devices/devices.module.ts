import { Device } from "../../entities/device.entity.js";
import { DeviceConnections1764250000007 } from "../../entities/migrations/1764250000007-device-connections.js";
import { Topic } from "../../platform/event-bus.js";
import { defineModule, type PlatformServices } from "../../platform/services.js";
import { DeviceEventsResolver } from "../../resolvers/devices/device-events.resolver.js";
import { DeviceResolver } from "../../resolvers/devices/device.resolver.js";
import { DeviceDirectory } from "./device-directory.service.js";
import { DeviceService } from "./device.service.js";
import { PresenceService } from "./presence.service.js";

/** Devices of a user, their tokens, and whether they are online. */
export interface DevicesServices {
  readonly directory: DeviceDirectory;
  readonly devices: DeviceService;
  readonly presence: PresenceService;
}

declare module "../../platform/services.js" {
  interface Services extends DevicesServices {}
}

export const devicesModule = defineModule({
  name: "devices",
  entities: [Device],
  migrations: [DeviceConnections1764250000007],
  resolvers: [DeviceResolver, DeviceEventsResolver],
  routes: [],
  create({ pool, bus, log, jobs, config, dataSource }: PlatformServices): DevicesServices {
    const directory = new DeviceDirectory(pool);
    const presence = new PresenceService(pool, directory, bus, log, jobs, { offlineMs: config.offlineTimeoutMs, flushMs: config.lastSeenFlushMs });
    bus.subscribe(Topic.DeviceCredentialsChanged, ({ deviceId }) => directory.forget(deviceId));
    bus.subscribe(Topic.BusResynced, () => directory.forgetAll());
    bus.subscribe(Topic.DeviceStatusChanged, ({ deviceId, status }, { remote }) => {
      const cached = remote ? directory.peek(deviceId) : undefined;
      if (cached) cached.status = status;
    });
    presence.start();
    return { directory, presence, devices: new DeviceService(pool, bus, dataSource, config.limits.devicesPerUser) };
  },
  started: ({ presence }) => presence.schedule(),
  stop: ({ presence }) => presence.stop(),
});
