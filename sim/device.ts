// One simulated ESP32: its pins, sensors and counters, and what it tells the operator. How it reaches the
// server is its transport's business: HTTP polling as the firmware does (the default), or one MQTT connection.
import { HttpTransport } from "./http-transport.js";
import { applyState, FIRMWARE, Sensors, telemetryData, type Counters, type PinChange, type Pins } from "./protocol.js";
import { sleep } from "./http.js";
import { Link } from "./link.js";
import { SimOta } from "./ota.js";
import type { DeviceSide, RequestKind, Transport, TransportFactory, TransportOptions } from "./transport.js";

export type { RequestKind } from "./transport.js";

/** What a device tells the simulator; every callback is optional so tests can listen to one thing. */
export interface DeviceListener {
  /** A report accepted (`latencyMs` after it went out), or a poll answered / a state message received. */
  ok?(device: SimDevice, kind: RequestKind, latencyMs: number): void;
  /** A report went out. */
  sent?(device: SimDevice): void;
  /** `what`: an HTTP status ("503"), "timeout", "network", "not a state", an MQTT reason code ("0x8E"). */
  error?(device: SimDevice, kind: RequestKind, what: string): void;
  command?(device: SimDevice, change: PinChange, source: RequestKind): void;
  /** The device lost the server (false) or got an answer again (true); once per change. */
  link?(device: SimDevice, online: boolean): void;
  /** The server refused the device's token (HTTP 403, a refused CONNECT): it stops. */
  forbidden?(device: SimDevice): void;
  /** Operator lines; `debug` ones are what the firmware prints only with `debug on`. */
  line?(device: SimDevice, text: string, debug: boolean): void;
}

export interface SimDeviceOptions {
  baseUrl: string;
  id: string;
  token: string;
  name: string;
  telemetryIntervalMs?: number;
  pollIntervalMs?: number;
  healthIntervalMs?: number;
  httpTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** false: ignore X-Long-Poll-Max and poll plainly, as firmware before long polling did. */
  longPoll?: boolean;
  /** Boot this much later, so a fleet started together does not fire in lockstep. */
  startDelayMs?: number;
  random?: () => number;
  listener?: DeviceListener;
  /** How the device reaches the server; HTTP as the firmware does unless given. */
  transport?: TransportFactory;
  /** Reported as fw_version at start, and update offers answered; without it the device ignores them (old firmware). */
  firmwareVersion?: string;
  /** Answer update offers with FAILED after the download (simulate's --ota-failure-rate). */
  otaFails?: boolean;
}

export type DeviceState = "idle" | "running" | "forbidden" | "stopped";

/** A command's source as the operator reads it: "poll", "telemetry", "MQTT state". */
const sourceName = (source: RequestKind) => (source === "state" || source === "command" ? `MQTT ${source}` : source);

export class SimDevice {
  readonly pins: Pins = { v0: 0, v1: 0, v2: 0, v3: 0 }; // outputs start LOW, as after a brown-out
  readonly counters: Counters = { sent: 0, failed: 0, polls: 0, commands: 0 }; // reported as stats.*
  state: DeviceState = "idle";
  private readonly o: TransportOptions & { name: string; startDelayMs: number; listener: DeviceListener };
  private readonly transport: Transport;
  private readonly sensors: Sensors;
  private readonly abort = new AbortController();
  private readonly link = new Link();
  private readonly side: DeviceSide;
  private bootedAt = 0;
  private readonly ota: SimOta | undefined;

  constructor(options: SimDeviceOptions) {
    const { transport, firmwareVersion, otaFails, ...rest } = options;
    this.o = {
      telemetryIntervalMs: FIRMWARE.telemetryIntervalMs,
      pollIntervalMs: FIRMWARE.pollIntervalMs,
      healthIntervalMs: FIRMWARE.healthIntervalMs,
      httpTimeoutMs: FIRMWARE.httpTimeoutMs,
      backoffBaseMs: FIRMWARE.backoffBaseMs,
      backoffCapMs: FIRMWARE.backoffCapMs,
      longPoll: true,
      startDelayMs: 0,
      random: Math.random,
      listener: {},
      ...rest,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
    };
    this.transport = (transport ?? ((o) => new HttpTransport(o)))(this.o);
    this.sensors = new Sensors(this.o.random);
    this.ota =
      firmwareVersion === undefined
        ? undefined
        : new SimOta({
            baseUrl: this.o.baseUrl,
            token: this.o.token,
            version: firmwareVersion,
            fails: otaFails ?? false,
            timeoutMs: 60_000,
            signal: this.abort.signal,
            say: (text, debug) => this.say(text, debug),
          });
    this.side = this.sideOf();
  }

  /** The firmware version it runs: --firmware-version, or the last update's. */
  get firmwareVersion(): string | undefined {
    return this.ota?.version;
  }

  get name(): string {
    return this.o.name;
  }

  /** The negotiated maximum wait of a poll, min(25, X-Long-Poll-Max); 0: plain polling, or MQTT. */
  get longPollWaitS(): number {
    return this.transport.longPollWaitS;
  }

  /** The server is out of reach (no connection, a timeout, a 5xx); health probes do not count. */
  get offline(): boolean {
    return this.link.offline;
  }

  /** Runs until stop() or a refused token; resolves when the last request has settled. */
  async run(): Promise<void> {
    await sleep(this.o.startDelayMs, this.abort.signal);
    if (this.abort.signal.aborted) return;
    this.state = "running";
    this.bootedAt = performance.now();
    await this.transport.run(this.side);
  }

  /** Ends the run at once, cutting a request in flight (a held long poll would otherwise take 30 s). */
  stop(): void {
    if (this.state !== "forbidden") this.state = "stopped";
    this.abort.abort();
  }

  /** The device as its transport sees it. */
  private sideOf(): DeviceSide {
    const state = () => this.state;
    return {
      id: this.o.id,
      token: this.o.token,
      signal: this.abort.signal,
      get running() {
        return state() === "running";
      },
      reading: () => ({
        ...telemetryData(this.pins, Math.floor(performance.now() - this.bootedAt), this.sensors.read(), this.counters),
        ...this.ota?.fields(),
      }),
      apply: (data, source) => this.applyServerState(data, source),
      sent: () => this.o.listener.sent?.(this),
      ok: (kind, latencyMs) => {
        if (kind === "telemetry") {
          this.counters.sent++;
          this.ota?.reportAccepted();
        } else this.counters.polls++;
        this.o.listener.ok?.(this, kind, latencyMs);
      },
      fail: (kind, what) => {
        this.counters.failed++;
        if (kind !== "health") this.o.listener.error?.(this, kind, what);
      },
      lost: (reason) => {
        const line = this.link.lost(reason);
        if (!line) return;
        this.o.listener.link?.(this, false);
        this.say(line, false);
      },
      answered: () => {
        const line = this.link.answered();
        if (!line) return;
        this.o.listener.link?.(this, true);
        this.say(line, false);
      },
      forbid: (line) => {
        this.state = "forbidden";
        this.o.listener.forbidden?.(this);
        this.say(line, false);
      },
      say: (text, debug) => this.say(text, debug),
      sleep: (ms, wake) => sleep(ms, wake ? AbortSignal.any([this.abort.signal, wake]) : this.abort.signal),
    };
  }

  private applyServerState(data: Record<string, unknown>, source: RequestKind): PinChange[] {
    const changes = applyState(data, this.pins);
    this.ota?.see(data);
    for (const change of changes) {
      this.counters.commands++;
      this.o.listener.command?.(this, change, source);
      this.say(`Command from ${sourceName(source)}: ${change.pin}=${change.level}`, true);
    }
    return changes;
  }

  private say(text: string, debug: boolean): void {
    this.o.listener.line?.(this, text, debug);
  }
}
