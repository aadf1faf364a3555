import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import mqttPacket, { type IConnectPacket, type Packet } from "mqtt-packet";
import { isDatabaseUnavailable } from "../../platform/errors.js";
import type { StateSnapshot } from "../../platform/event-bus.js";
import type { DeviceInfo } from "../devices/device-directory.service.js";
import { Downlink } from "./downlink.js";
import { CONNECT_TIMEOUT_MS, MAX_QUEUED_BYTES, RC, RECEIVE_MAXIMUM, WARNINGS_PER_MINUTE, type SessionHost, type SessionLink, type Version } from "./link.js";
import { Uplink } from "./uplink.js";

/**
 * One device's MQTT connection: the device endpoint of docs/mqtt.md, not a general broker. It speaks
 * MQTT 3.1.1 and 5 through mqtt-packet, authenticates the device at CONNECT, feeds its publishes to
 * the ingest core (PUBACK after the commit, in order), and sends it its state and commands.
 */
export class MqttSession implements SessionLink {
  /** Recorded in the device row while this session holds it (see PresenceService.connect). */
  readonly id = randomUUID();
  device!: DeviceInfo;
  version: Version = 4;
  closed = false;
  private readonly parser = mqttPacket.parser();
  private queue: Promise<void> = Promise.resolve();
  private presence: Promise<void> = Promise.resolve();
  private keepAliveMs = 0;
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private warnings = 0;
  private shuttingDown = false;
  private warningsWindow = 0;
  private readonly ended: Promise<void>;
  private markEnded!: () => void;
  private readonly uplink = new Uplink(this);
  private readonly downlink = new Downlink(this);

  constructor(
    private readonly socket: Socket,
    readonly host: SessionHost,
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    socket.setNoDelay(true);
    this.parser.on("packet", (packet: Packet) => this.onPacket(packet));
    this.parser.on("error", (error: Error) => this.end(`malformed packet: ${error.message}`, RC.malformed));
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined); // resets by the peer are normal ends; "close" follows
    socket.on("close", () => this.onClose());
    this.timer = setTimeout(() => {
      if (!this.device) this.end("no CONNECT within 10 s");
    }, CONNECT_TIMEOUT_MS);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    this.parser.parse(chunk);
    // The declared length is known before the body has arrived: a packet over the limit is refused
    // without buffering it.
    const declared = (this.parser as unknown as { packet: { length: number } }).packet.length;
    if (declared > this.host.maxPacketBytes) this.end(`packet of ${declared} bytes is over the limit of ${this.host.maxPacketBytes}`, RC.packetTooLarge);
  }

  private onPacket(packet: Packet): void {
    if (this.closed) return;
    if (!this.device && packet.cmd !== "connect") {
      this.end(`${packet.cmd} before CONNECT`, RC.protocolError);
      return;
    }
    switch (packet.cmd) {
      case "connect":
        this.serially(() => this.onConnect(packet));
        return;
      case "publish":
        this.serially(() => this.uplink.publish(packet));
        return;
      case "puback":
        this.downlink.acknowledged(packet.messageId);
        return;
      case "subscribe":
        this.serially(() => this.downlink.subscribe(packet));
        return;
      case "unsubscribe":
        this.serially(() => this.downlink.unsubscribe(packet));
        return;
      case "pingreq":
        this.send({ cmd: "pingresp" });
        return;
      case "disconnect":
        this.closed = true;
        this.socket.end();
        return;
      case "auth":
        this.end("enhanced authentication is not supported", RC.badAuthMethod);
        return;
      default:
        this.end(`unexpected ${packet.cmd}`, RC.protocolError);
    }
  }

  /** Packets are handled in arrival order; a handler that fails ends the session, never the process. */
  private serially(handler: () => Promise<void> | void): void {
    this.queue = this.queue
      .then(() => (this.closed ? undefined : handler()))
      .catch((error: unknown) => {
        this.host.log.error({ err: error, deviceId: this.device?.id }, "mqtt session failed");
        this.end("internal error", RC.unspecified);
      });
  }

  // --- CONNECT -----------------------------------------------------------------------------------

  private async onConnect(packet: IConnectPacket): Promise<void> {
    if (this.device) {
      this.end("second CONNECT", RC.protocolError);
      return;
    }
    this.version = (packet.protocolVersion ?? 4) as Version;
    const address = this.socket.remoteAddress ?? "unknown";
    if (this.host.authFailures.exhausted(address)) {
      this.refuseConnect("too many failed attempts from this address", RC.connectionRateExceeded, 5);
      return;
    }
    const username = packet.username ?? "";
    const password = packet.password?.toString("utf8") ?? "";
    // username = token with an empty password, or username = device id and password = token.
    const [namedId, token] = password === "" ? [undefined, username] : [username, password];
    let device: DeviceInfo | undefined;
    try {
      device = token === "" ? undefined : await this.host.ingest.authenticate(token);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.refuseConnect("storage unavailable", RC.serverUnavailable, 3);
      return;
    }
    if (!device) {
      this.host.authFailures.hit(address);
      this.refuseConnect("bad device token", RC.badCredentials, 4);
      return;
    }
    if (namedId !== undefined && namedId.toLowerCase() !== device.id) {
      this.host.authFailures.hit(address);
      this.refuseConnect("the token is not this device's", RC.notAuthorized, 5);
      return;
    }
    if (this.closed) return;
    this.device = device;
    const asked = packet.keepalive ?? 0;
    const keepAlive = asked === 0 || asked > this.host.maxKeepAliveSeconds ? this.host.maxKeepAliveSeconds : asked;
    this.keepAliveMs = keepAlive * 1000;
    const properties =
      this.version === 5
        ? {
            maximumQoS: 1,
            retainAvailable: false,
            sharedSubscriptionAvailable: false,
            wildcardSubscriptionAvailable: true,
            topicAliasMaximum: 0,
            receiveMaximum: RECEIVE_MAXIMUM,
            maximumPacketSize: this.host.maxPacketBytes,
            ...(keepAlive !== asked ? { serverKeepAlive: keepAlive } : {}),
            ...(packet.clientId === "" ? { assignedClientIdentifier: device.id } : {}),
          }
        : undefined;
    this.host.attach(this)?.end("another connection of this device took over", RC.takenOver);
    this.send({ cmd: "connack", sessionPresent: false, returnCode: 0, reasonCode: 0, ...(properties ? { properties } : {}) });
    this.armKeepAlive();
    const at = Date.now();
    this.presence = this.presence.then(() =>
      this.host.presence.connect(device, this.id, at).catch((error: Error) => this.host.log.warn({ err: error.message, deviceId: device.id }, "mqtt presence")),
    );
    this.host.log.info({ deviceId: device.id, protocol: this.version, keepAlive, address }, "mqtt device connected");
  }

  private refuseConnect(reason: string, v5Code: number, v3Code: number): void {
    this.host.log.warn({ address: this.socket.remoteAddress, reason }, "mqtt connect refused");
    this.send({ cmd: "connack", sessionPresent: false, returnCode: v3Code, reasonCode: v5Code });
    this.closeSoon();
  }

  private armKeepAlive(): void {
    clearTimeout(this.timer);
    const limit = this.keepAliveMs * 1.5;
    const check = () => {
      const idle = Date.now() - this.lastActivity;
      if (idle >= limit) this.end(`keep-alive ran out (${Math.round(idle / 1000)} s without a packet)`, RC.keepAliveTimeout);
      else this.timer = setTimeout(check, limit - idle + 10);
    };
    this.timer = setTimeout(check, limit);
  }

  // --- the connection ----------------------------------------------------------------------------

  send(packet: Record<string, unknown>): void {
    if (this.socket.destroyed) return;
    this.socket.write(mqttPacket.generate(packet as unknown as Packet, { protocolVersion: this.version }));
    if (this.socket.writableLength > MAX_QUEUED_BYTES) this.end("the device does not read what it is sent", RC.quotaExceeded);
  }

  /** Ends the session: MQTT 5 clients get a DISCONNECT with the reason; the reason is logged with the device. */
  end(reason: string, code?: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.device) this.host.log.warn({ deviceId: this.device.id, reason }, "mqtt session ended");
    else this.host.log.warn({ address: this.socket.remoteAddress, reason }, "mqtt connection closed");
    if (this.version === 5 && this.device && code !== undefined) {
      this.socket.write(
        mqttPacket.generate({ cmd: "disconnect", reasonCode: code, properties: { reasonString: reason.slice(0, 200) } } as Packet, { protocolVersion: 5 }),
      );
    }
    this.closeSoon();
  }

  private closeSoon(): void {
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  warn(message: string): void {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.warningsWindow) [this.warningsWindow, this.warnings] = [minute, 0];
    if (++this.warnings <= WARNINGS_PER_MINUTE) this.host.log.warn({ deviceId: this.device?.id }, `mqtt: ${message}`);
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const device = this.device;
    if (!device) return this.markEnded();
    this.host.detach(this);
    if (this.shuttingDown) return this.markEnded(); // the endpoint marks every session offline in one write
    const at = Date.now();
    this.presence = this.presence.then(() =>
      this.host.presence
        .disconnect(device, this.id, at)
        .catch((error: Error) => this.host.log.warn({ err: error.message, deviceId: device.id }, "mqtt presence")),
    );
    void this.presence.then(() => this.markEnded());
    this.host.log.info({ deviceId: device.id }, "mqtt device disconnected");
  }

  /** Settles once the connection is closed and its presence writes are done (shutdown waits for them). */
  settled(): Promise<void> {
    return this.ended;
  }

  /** Proof of life for the offline sweep while the connection is held. */
  touch(at: number): void {
    if (this.device && !this.closed) this.host.presence.touch(this.device, at, "mqtt");
  }

  /** Server shutdown: MQTT 5 clients are told; the endpoint writes the offline marks for all sessions at once. */
  shutdown(): void {
    this.shuttingDown = true;
    if (this.closed) return;
    this.closed = true;
    if (this.version === 5 && this.device)
      this.socket.write(mqttPacket.generate({ cmd: "disconnect", reasonCode: RC.shuttingDown } as Packet, { protocolVersion: 5 }));
    this.closeSoon();
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** Ends the session when the device's credentials change (rotated token, deleted device). */
  credentialsChanged(): void {
    this.end("device token rotated or device deleted", RC.notAuthorized);
  }

  /** The device's state changed (here or in another process). */
  stateChanged(state: StateSnapshot, commanded: boolean): void {
    if (this.device && !this.closed) this.downlink.stateChanged(state, commanded);
  }

  /** Events may have been lost: re-read the state and send what changed. */
  refresh(): void {
    if (!this.device || this.closed) return;
    const device = this.device;
    // A rotation or deletion elsewhere may have been missed too.
    this.host.ingest
      .stillValid(device)
      .then((valid) => (valid ? this.downlink.refresh() : this.credentialsChanged()))
      .catch((error: Error) => this.host.log.warn({ err: error.message, deviceId: this.device.id }, "mqtt refresh"));
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }
}
