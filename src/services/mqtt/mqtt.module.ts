import { defineModule, type PlatformServices } from "../../platform/services.js";
import { readTlsPair } from "../../platform/tls.js";
import type { DevicesServices } from "../devices/devices.module.js";
import type { TelemetryServices } from "../telemetry/telemetry.module.js";
import { MqttBridge } from "./mqtt-bridge.js";
import { MqttEndpoint } from "./mqtt-endpoint.js";

/** MQTT for devices: the built-in device endpoint, or a binding to an external broker (docs/mqtt.md). */
export interface MqttServices {
  /** The built-in endpoint; undefined when MQTT_PORT=off or MQTT_URL is set. */
  readonly mqtt: MqttEndpoint | undefined;
  /** The external-broker binding; undefined unless MQTT_URL is set. */
  readonly mqttBridge: MqttBridge | undefined;
}

declare module "../../platform/services.js" {
  interface Services extends MqttServices {}
}

/** The HTTPS pair, read again at each call (start, SIGHUP), checked as for HTTPS. */
const tlsOf = (files: NonNullable<PlatformServices["config"]["tls"]>) => () => {
  const pair = readTlsPair(files);
  return { cert: pair.cert, key: pair.key };
};

export const mqttModule = defineModule({
  name: "mqtt",
  entities: [],
  migrations: [],
  resolvers: [],
  routes: [],
  create(deps: PlatformServices & DevicesServices & TelemetryServices): MqttServices {
    const { config, bus, log, ingest, state, presence } = deps;
    const { mqtt } = config;
    if (mqtt.url) return { mqtt: undefined, mqttBridge: new MqttBridge({ ingest, bus, log }, { url: mqtt.url, topicPrefix: mqtt.topicPrefix }) };
    if (mqtt.port === null && mqtt.tlsPort === null) return { mqtt: undefined, mqttBridge: undefined };
    const endpoint = new MqttEndpoint(
      { ingest, state, presence, bus, log },
      {
        host: mqtt.host,
        port: mqtt.port,
        tlsPort: mqtt.tlsPort,
        ...(config.tls ? { tls: tlsOf(config.tls) } : {}),
        topicPrefix: mqtt.topicPrefix,
        maxPacketBytes: config.limits.bodyBytes,
        maxKeepAliveSeconds: mqtt.maxKeepAliveSeconds,
        rateLimit: config.rateLimit,
        // Proof of life for the offline sweep (a process killed with its sessions stops it). A third of
        // OFFLINE_TIMEOUT is ample, and with 10,000 held sessions a write of all of them every flush
        // (5 s) took a share of the database that ingest needs.
        touchEveryMs: Math.max(config.lastSeenFlushMs, Math.floor(config.offlineTimeoutMs / 3)),
      },
    );
    return { mqtt: endpoint, mqttBridge: undefined };
  },
  started: async ({ mqtt, mqttBridge }) => {
    await mqtt?.listen();
    await mqttBridge?.start();
  },
  stop: async ({ mqtt, mqttBridge }) => {
    await mqtt?.close();
    await mqttBridge?.stop();
  },
});
