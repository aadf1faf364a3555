import { EventEmitter } from "node:events";
import type { JsonValue } from "../entities/device-state.entity.js";

/**
 * Domain events. Payloads are plain, serialisable data so a later transport (Redis) can carry them
 * between processes unchanged. Events are published only after the commit that caused them.
 */
export enum Topic {
  TelemetryReported = "telemetry.reported",
  DeviceStateChanged = "device.state_changed",
  DeviceStatusChanged = "device.status_changed",
  DeviceCredentialsChanged = "device.credentials_changed",
  SessionsChanged = "user.sessions_changed",
}

export interface StateSnapshot {
  deviceId: string;
  reported: Record<string, JsonValue>;
  desired: Record<string, JsonValue>;
  merged: Record<string, JsonValue>;
  reportedAt: string | null;
  version: number;
}

export interface Payloads {
  [Topic.TelemetryReported]: { deviceId: string; ownerId: string; data: Record<string, JsonValue>; timestamp: string };
  [Topic.DeviceStateChanged]: {
    deviceId: string;
    ownerId: string;
    state: StateSnapshot;
    /** Keys whose command the device confirmed by reporting the same value. */
    confirmed: string[];
    /** Keys whose command was dropped because the device changed the value itself after receiving it. */
    overridden: string[];
  };
  [Topic.DeviceStatusChanged]: { deviceId: string; ownerId: string; status: "online" | "offline"; timestamp: string };
  /** The device's token changed or the device was deleted: caches must forget it. */
  [Topic.DeviceCredentialsChanged]: { deviceId: string };
  /** A user's tokens were revoked (logout, password reset, deletion): caches must reload them. */
  [Topic.SessionsChanged]: { userId: string };
}

type Handler<T extends Topic> = (payload: Payloads[T]) => void;

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish<T extends Topic>(topic: T, payload: Payloads[T]): void {
    this.emitter.emit(topic, payload);
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    // A failing subscriber must never break the publisher (the ingest path).
    const safe = (payload: Payloads[T]) => {
      try {
        handler(payload);
      } catch (error) {
        this.emitter.emit("error", error);
      }
    };
    this.emitter.on(topic, safe);
    return () => this.emitter.off(topic, safe);
  }

  onError(handler: (error: unknown) => void): void {
    this.emitter.on("error", handler);
  }
}
