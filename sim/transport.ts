// How a simulated device reaches the server: HTTP as the firmware does (sim/http-transport.ts) or one MQTT
// connection (sim/mqtt-transport.ts). The device (sim/device.ts) keeps the pins, counters and operator lines;
// a transport owns the wire and the schedule, since polling and a held connection schedule differently.
import type { PinChange } from "./protocol.js";

/** "poll": an HTTP poll; "state" and "command": MQTT downlinks; "connect": an MQTT connection. */
export type RequestKind = "telemetry" | "poll" | "state" | "command" | "connect";

/** A report's `data`. */
export type Reading = Record<string, number | string>;

/** What a transport sees of its device. */
export interface DeviceSide {
  readonly id: string;
  readonly token: string;
  /** Aborted by stop(): every wait and request is cut short. */
  readonly signal: AbortSignal;
  /** Neither stopped nor refused. */
  readonly running: boolean;
  /** The next report's `data`, as the firmware builds it (numbers, and the fw_* strings of an update). */
  reading(): Reading;
  /** A server state (a poll answer, a report's answer, a state or command message); returns the pins it changed. */
  apply(data: Record<string, unknown>, source: RequestKind): PinChange[];
  /** A report went out. */
  sent(): void;
  /** An answer: a report accepted (after `latencyMs`), or a state received. */
  ok(kind: RequestKind, latencyMs: number): void;
  /** A failed request or connection; `what` is short: "503", "timeout", "network", "0x8E". */
  fail(kind: RequestKind | "health", what: string): void;
  /** The server is out of reach; prints the offline line once. */
  lost(reason: string): void;
  /** The server answered again; prints the online line once. */
  answered(): void;
  /** The server refused the device's token: the device stops, saying why. */
  forbid(line: string): void;
  say(text: string, debug: boolean): void;
  sleep(ms: number, wake?: AbortSignal): Promise<void>;
}

export interface Transport {
  /** Runs until the device stops or is refused; resolves once nothing is in flight. */
  run(device: DeviceSide): Promise<void>;
  /** The seconds a poll may be held (HTTP long polling); 0 when nothing is held. */
  readonly longPollWaitS: number;
}

/** The device settings a transport needs, defaults filled in. */
export interface TransportOptions {
  baseUrl: string;
  id: string;
  token: string;
  telemetryIntervalMs: number;
  pollIntervalMs: number;
  healthIntervalMs: number;
  httpTimeoutMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  longPoll: boolean;
  random: () => number;
}

export type TransportFactory = (options: TransportOptions) => Transport;
