import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import mqtt, { type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { AppError, isDatabaseUnavailable } from "../../platform/errors.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { IngestService } from "../telemetry/ingest.service.js";
import { changedCommands, commandMessage, desiredFingerprint, parseUplink, stateMessage, UplinkError } from "./messages.js";
import { DeviceTopics } from "./topics.js";

interface Deps {
  readonly ingest: IngestService;
  readonly bus: EventBus;
  readonly log: Logger;
}

export interface MqttBridgeOptions {
  readonly url: string;
  readonly topicPrefix: string;
  /** Stable per process, so the broker keeps unacknowledged uplinks across a reconnect. */
  readonly clientId?: string;
}

const CONFLICT_ATTEMPTS = 8;

/** Devices whose last sent desired values are remembered (to send only changed commands). */
const REMEMBERED_DEVICES = 50_000;

/**
 * Binding to an external broker (MQTT_URL): the broker authenticates connections, this process
 * takes uplinks through a shared subscription (N processes split them) and authenticates each by the
 * `device_token` in its payload, then publishes state (retained, so a device subscribing later gets
 * it) and commands. A report is acknowledged to the broker only after its commit.
 */
export class MqttBridge {
  private client: MqttClient | undefined;
  private readonly topics: DeviceTopics;
  private readonly lastDesired = new Map<string, Map<string, string>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly options: MqttBridgeOptions,
  ) {
    this.topics = new DeviceTopics(options.topicPrefix);
  }

  async start(): Promise<void> {
    const { log } = this.deps;
    // Unique per process start; the broker keeps its session (and unacknowledged uplinks) across reconnects.
    const clientId = this.options.clientId ?? `thingsnxt-${hostname()}-${randomUUID().slice(0, 8)}`;
    const client = await mqtt.connectAsync(this.options.url, {
      clientId,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 1000,
      customHandleAcks: (topic, message, _packet, done) =>
        void this.onUplink(topic, message).then(
          (code) => done(code),
          (error: Error) => done(error),
        ),
    });
    client.on("error", (error) => log.warn({ err: error.message }, "mqtt broker"));
    client.on("reconnect", () => log.info("mqtt broker: reconnecting"));
    this.client = client;
    await client.subscribeAsync(this.topics.sharedUplinks("thingsnxt"), { qos: 1 });
    this.unsubscribe = this.deps.bus.subscribe(Topic.DeviceStateChanged, ({ deviceId, state, commanded }, { remote }) => {
      if (remote) return; // the process that made the change publishes it, once
      const previous = this.lastDesired.get(deviceId) ?? new Map<string, string>();
      const commands = changedCommands(previous, state.desired);
      if (!commanded && commands.length === 0 && previous.size === Object.keys(state.desired).length) return;
      this.remember(deviceId, desiredFingerprint(state.desired));
      void client
        .publishAsync(this.topics.state(deviceId), stateMessage(deviceId, state.merged, state.reportedAt), { qos: 1, retain: true })
        .catch(() => undefined);
      const at = Date.now();
      for (const [key, value] of commands) {
        void client.publishAsync(this.topics.commands(deviceId), commandMessage(key, value, at), { qos: 1 }).catch(() => undefined);
      }
    });
    log.info({ broker: new URL(this.options.url).host }, "MQTT bound to an external broker");
  }

  private remember(deviceId: string, desired: Map<string, string>): void {
    this.lastDesired.delete(deviceId);
    this.lastDesired.set(deviceId, desired);
    if (this.lastDesired.size > REMEMBERED_DEVICES) this.lastDesired.delete(this.lastDesired.keys().next().value!);
  }

  /** One uplink: its PUBACK reason code once handled; an Error (no PUBACK) when storage is down. */
  private async onUplink(topic: string, message: Buffer): Promise<number> {
    const { ingest, log } = this.deps;
    const uplinkTopic = this.topics.uplinkOf(topic);
    if (!uplinkTopic) return 0x87;
    const { deviceId } = uplinkTopic;
    try {
      const uplink = parseUplink(message);
      const device = await ingest.authenticate(uplink.token);
      if (!device || device.id !== deviceId) throw new UplinkError("device_token missing, wrong, or not this topic's device", 0x87);
      await this.reportRetryingConflicts(() =>
        uplinkTopic.batch ? ingest.reportBatch(device, uplink.records, "mqtt") : ingest.report(device, uplink.data, "mqtt", uplink.ts),
      );
      return 0;
    } catch (error) {
      if (error instanceof UplinkError) {
        log.warn({ deviceId, reason: error.message }, "mqtt uplink refused");
        return error.reasonCode;
      }
      if (error instanceof AppError && error.code === "BAD_USER_INPUT") {
        log.warn({ deviceId, reason: error.message }, "mqtt uplink refused");
        return 0x99;
      }
      if (error instanceof AppError && error.code === "FORBIDDEN") return 0x87;
      if (error instanceof AppError && error.code === "RATE_LIMITED") {
        log.warn({ deviceId, reason: error.message }, "mqtt uplink refused");
        return 0x97;
      }
      if (!isDatabaseUnavailable(error)) log.error({ err: error, deviceId }, "mqtt uplink failed");
      // Not acknowledged: the broker keeps it for this session and sends it again after a reconnect.
      this.client?.end(true, () => setTimeout(() => this.client?.reconnect(), 1000));
      throw error instanceof Error ? error : new Error(String(error));
    }
  }

  /**
   * The broker splits uplinks between processes message by message, so two processes may write one
   * device's state at once; the loser of that race tries again after a moment.
   */
  private async reportRetryingConflicts(report: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await report();
        return;
      } catch (error) {
        if (!(error instanceof AppError && error.code === "CONFLICT") || attempt >= CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
      }
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.client?.endAsync().catch(() => undefined);
  }
}
