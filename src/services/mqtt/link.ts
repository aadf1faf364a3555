import type { Logger } from "pino";
import type { DeviceInfo } from "../devices/device-directory.service.js";
import type { PresenceService } from "../devices/presence.service.js";
import type { DeviceStateService } from "../telemetry/device-state.service.js";
import type { IngestService } from "../telemetry/ingest.service.js";
import type { DeviceTopics } from "./topics.js";
import type { WindowCounter } from "./window-counter.js";

/** A session as its endpoint keeps it. */
export interface Attachable {
  readonly device: DeviceInfo | undefined;
  end(reason: string, code?: number): void;
}

/** What a session needs from its endpoint. */
export interface SessionHost {
  readonly ingest: IngestService;
  readonly state: DeviceStateService;
  readonly presence: PresenceService;
  readonly topics: DeviceTopics;
  readonly log: Logger;
  /** Reports per device and window: the REST budget (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_SECONDS). */
  readonly budget: WindowCounter;
  /** Failed CONNECTs per client address, against the same budget as wrong HTTP tokens. */
  readonly authFailures: WindowCounter;
  readonly maxPacketBytes: number;
  readonly maxKeepAliveSeconds: number;
  /** Registers the session as its device's; returns the one it replaces. */
  attach(session: Attachable): Attachable | undefined;
  detach(session: Attachable): void;
}

export type Version = 3 | 4 | 5;

// MQTT 5 reason codes (spec 2.4); the 3.1.1 CONNACK return codes are in refuseConnect.
export const RC = {
  success: 0x00,
  unspecified: 0x80,
  malformed: 0x81,
  protocolError: 0x82,
  notAuthorized: 0x87,
  badCredentials: 0x86,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  shuttingDown: 0x8b,
  badAuthMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  takenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  noSubscription: 0x11,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
  qosNotSupported: 0x9b,
  sharedNotSupported: 0x9e,
  connectionRateExceeded: 0x9f,
  topicAliasInvalid: 0x94,
} as const;

/** Reports of one session in flight at once; beyond it the socket is not read (back-pressure). */
export const RECEIVE_MAXIMUM = 64;
/** State and command messages the device has not acknowledged; beyond it the session ends. */
export const MAX_UNACKED = 256;
/** Bytes queued for a device that does not read; beyond it the session ends. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
export const CONNECT_TIMEOUT_MS = 10_000;
/** Warnings logged per session and minute (a misbehaving device must not flood the log). */
export const WARNINGS_PER_MINUTE = 10;

/** What the uplink and downlink halves of a session use of it. */
export interface SessionLink {
  readonly host: SessionHost;
  readonly device: DeviceInfo;
  readonly version: Version;
  readonly closed: boolean;
  send(packet: Record<string, unknown>): void;
  end(reason: string, code?: number): void;
  /** Logged with the device id, at most WARNINGS_PER_MINUTE a minute. */
  warn(message: string): void;
  /** Back-pressure: stop and start reading the socket. */
  pause(): void;
  resume(): void;
}
