import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type SecureContextOptions } from "node:tls";
import type { Logger } from "pino";
import { listenError } from "../../platform/listen-check.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { PresenceService } from "../devices/presence.service.js";
import type { DeviceStateService } from "../telemetry/device-state.service.js";
import type { IngestService } from "../telemetry/ingest.service.js";
import type { SessionHost } from "./link.js";
import { MqttSession } from "./mqtt-session.js";
import { DeviceTopics } from "./topics.js";
import { WindowCounter } from "./window-counter.js";

export interface MqttEndpointOptions {
  readonly host: string;
  readonly port: number | null;
  readonly tlsPort: number | null;
  /** Key and certificate for the TLS listener (read by the caller). */
  readonly tls?: () => SecureContextOptions;
  readonly topicPrefix: string;
  readonly maxPacketBytes: number;
  readonly maxKeepAliveSeconds: number;
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** How often held sessions count as contact for the offline sweep (LAST_SEEN_FLUSH). */
  readonly touchEveryMs: number;
}

interface Deps {
  readonly ingest: IngestService;
  readonly state: DeviceStateService;
  readonly presence: PresenceService;
  readonly bus: EventBus;
  readonly log: Logger;
}

/**
 * The built-in MQTT device endpoint: a TCP (and optionally TLS) listener whose every connection is
 * one device's MqttSession. It is not a general broker: devices talk to the server, never to each
 * other, so a session is a few objects and a socket. State changes reach the session of their
 * device from the event bus, whichever process made them.
 */
export class MqttEndpoint implements SessionHost {
  readonly topics: DeviceTopics;
  readonly budget: WindowCounter;
  readonly authFailures: WindowCounter;
  readonly maxPacketBytes: number;
  readonly maxKeepAliveSeconds: number;
  readonly ingest: IngestService;
  readonly state: DeviceStateService;
  readonly presence: PresenceService;
  readonly log: Logger;
  private readonly sessions = new Map<string, MqttSession>();
  private readonly open = new Set<MqttSession>();
  private readonly servers: Array<{ name: string; server: Server }> = [];
  private touchTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    deps: Deps,
    private readonly options: MqttEndpointOptions,
  ) {
    ({ ingest: this.ingest, state: this.state, presence: this.presence, log: this.log } = deps);
    this.topics = new DeviceTopics(options.topicPrefix);
    this.budget = new WindowCounter(options.rateLimit.max, options.rateLimit.windowMs);
    this.authFailures = new WindowCounter(options.rateLimit.max, options.rateLimit.windowMs);
    this.maxPacketBytes = options.maxPacketBytes;
    this.maxKeepAliveSeconds = options.maxKeepAliveSeconds;
    this.unsubscribe.push(
      deps.bus.subscribe(Topic.DeviceStateChanged, ({ deviceId, state, commanded }) => this.sessions.get(deviceId)?.stateChanged(state, commanded)),
      deps.bus.subscribe(Topic.DeviceCredentialsChanged, ({ deviceId }) => this.sessions.get(deviceId)?.credentialsChanged()),
      deps.bus.subscribe(Topic.BusResynced, () => {
        for (const session of this.sessions.values()) session.refresh();
      }),
    );
  }

  attach(session: MqttSession): MqttSession | undefined {
    const previous = this.sessions.get(session.device!.id);
    this.sessions.set(session.device!.id, session);
    return previous === session ? undefined : previous;
  }

  detach(session: MqttSession): void {
    this.open.delete(session);
    if (session.device && this.sessions.get(session.device.id) === session) this.sessions.delete(session.device.id);
  }

  /** Devices with a session in this process. */
  get connected(): number {
    return this.sessions.size;
  }

  /** Starts the listeners; each refusal names its setting (MQTT_PORT, MQTTS_PORT). */
  async listen(): Promise<void> {
    const accept = (socket: Socket) => {
      const session = new MqttSession(socket, this);
      this.open.add(session);
      socket.once("close", () => this.open.delete(session));
    };
    if (this.options.port !== null) await this.bind("MQTT_PORT", createServer(accept), this.options.port);
    if (this.options.tlsPort !== null && this.options.tls) {
      const server = createTlsServer({ ...this.options.tls(), minVersion: "TLSv1.2" }, accept);
      server.on("tlsClientError", () => undefined); // a client that fails the handshake is only that
      await this.bind("MQTTS_PORT", server, this.options.tlsPort);
    }
    this.touchTimer = setInterval(() => {
      const now = Date.now();
      for (const session of this.sessions.values()) session.touch(now);
    }, this.options.touchEveryMs);
    this.touchTimer.unref();
  }

  private async bind(name: string, server: Server, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(name, this.options.host, port, error)));
      server.listen({ host: this.options.host, port }, () => resolve());
    });
    server.on("error", (error) => this.log.error({ err: error }, "mqtt listener"));
    this.servers.push({ name, server });
    this.log.info({ port: (server.address() as AddressInfo).port, setting: name }, "MQTT device endpoint listening");
  }

  /** The port a listener got (MQTT_PORT=0 picks a free one). */
  portOf(name: "MQTT_PORT" | "MQTTS_PORT"): number | undefined {
    const found = this.servers.find((s) => s.name === name);
    return found ? (found.server.address() as AddressInfo).port : undefined;
  }

  /** Replaces the TLS listener's certificate (SIGHUP); new connections get it. */
  reloadTls(): boolean {
    const tls = this.servers.find((s) => s.name === "MQTTS_PORT")?.server as ReturnType<typeof createTlsServer> | undefined;
    if (!tls || !this.options.tls) return false;
    try {
      tls.setSecureContext(this.options.tls());
      return true;
    } catch (error) {
      this.log.error({ err: (error as Error).message }, "MQTTS certificate not reloaded: the previous one stays in use");
      return false;
    }
  }

  /** Stops listening, ends every session (MQTT 5: "server shutting down") and waits for their offline marks. */
  async close(): Promise<void> {
    clearInterval(this.touchTimer);
    for (const off of this.unsubscribe) off();
    const closing = this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())));
    const sessions = [...this.open];
    const held = [...this.sessions.values()].map((session) => ({ device: session.device, connectionId: session.id }));
    for (const session of sessions) session.shutdown();
    await Promise.race([Promise.all(sessions.map((s) => s.settled())), new Promise((r) => setTimeout(r, 2000))]);
    await this.presence.disconnectMany(held).catch((error: Error) => this.log.warn({ err: error.message }, "mqtt: offline marks at shutdown failed"));
    if (held.length > 0) this.log.info({ sessions: held.length }, "MQTT sessions ended: server shutting down");
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 1500))]);
  }
}
