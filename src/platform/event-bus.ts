import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { JsonValue } from "./json.js";

/**
 * Domain events. Payloads are plain, serialisable data so Redis can carry them between processes
 * unchanged. Events are published only after the commit that caused them.
 */
export enum Topic {
  TelemetryReported = "telemetry.reported",
  DeviceStateChanged = "device.state_changed",
  DeviceStatusChanged = "device.status_changed",
  DeviceCredentialsChanged = "device.credentials_changed",
  SessionsChanged = "user.sessions_changed",
  NotificationAdded = "user.notification_added",
  ScheduleRan = "schedule.ran",
  RulesChanged = "rules.changed",
  WidgetChanged = "widget.changed",
  /** A device of a release changed state, or the release's status changed (docs/ota.md). */
  FirmwareUpdateChanged = "ota.update_changed",
  /**
   * Events between processes may have been lost (the Redis link was down): every cache must drop
   * what it holds and every live view re-read. Delivered in each process when its link is back.
   */
  BusResynced = "bus.resynced",
  /** A periodic maintenance job failed (it is retried); the admins are told. */
  MaintenanceFailed = "system.maintenance_failed",
}

/** A widget as plain data (what crosses Redis). */
export interface WidgetSnapshot {
  id: string;
  ownerId: string;
  dashboardId: string;
  deviceId: string | null;
  type: string;
  label: string;
  key: string | null;
  virtualPin: string | null;
  config: Record<string, JsonValue>;
  order: number;
  width: number;
  height: number;
  createdAt: string;
  updatedAt: string;
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
    /** True when the change was a new command (long polls wake on it). */
    commanded: boolean;
  };
  [Topic.DeviceStatusChanged]: { deviceId: string; ownerId: string; status: "online" | "offline"; timestamp: string };
  /** The device's token changed or the device was deleted: caches must forget it. */
  [Topic.DeviceCredentialsChanged]: { deviceId: string };
  [Topic.BusResynced]: { since: string };
  [Topic.MaintenanceFailed]: { task: string; error: string };
  /** A user's tokens were revoked (logout, password reset, deletion): caches must reload them. */
  [Topic.SessionsChanged]: { userId: string };
  /** A schedule or timer ran (ok) or failed; webhooks listen for schedule_executed. */
  [Topic.ScheduleRan]: { userId: string; ok: boolean; data: Record<string, JsonValue> };
  /** The rules reading this device changed (CRUD, or a transition of their state): caches must reload them. */
  [Topic.RulesChanged]: { deviceId: string };
  /** Created, changed (label, config, layout...) or deleted. Value changes come from DeviceStateChanged. */
  [Topic.WidgetChanged]: { ownerId: string; dashboardId: string; widget: WidgetSnapshot; deleted: boolean };
  [Topic.FirmwareUpdateChanged]: {
    ownerId: string;
    releaseId: string;
    /** Null when only the release's status changed. */
    deviceId: string | null;
    state: string | null;
    error: string | null;
    releaseStatus: string;
    at: string;
  };
  [Topic.NotificationAdded]: {
    userId: string;
    notification: { id: string; type: string; title: string; message: string; data: Record<string, JsonValue>; createdAt: string };
  };
}

export interface Delivery {
  /** The event was published by another process (its caches did not see the change). */
  remote: boolean;
}

type Handler<T extends Topic> = (payload: Payloads[T], delivery: Delivery) => void;

interface Wire {
  o: string; // origin process
  t: Topic;
  p: unknown;
}

/**
 * In-process by default. With Redis, every event also goes to one channel that every process of
 * the deployment subscribes to; a process delivers its own events at once (so its caches are never
 * behind its own writes) and ignores their echo.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly origin = randomUUID();
  private subscriber: Redis | undefined;

  constructor(private readonly redis?: { client: Redis; channel: string; log: Logger }) {
    this.emitter.setMaxListeners(0);
  }

  /** Starts listening to other processes (no-op without Redis). */
  async connect(): Promise<void> {
    if (!this.redis) return;
    const { client, channel, log } = this.redis;
    this.subscriber = client.duplicate({ lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on("error", (error) => log.warn({ err: error.message }, "redis subscriber"));
    // While the link is down, other processes' events (and the Redis publish of ours) are lost, so
    // when it is back every process, this one and the others, drops its caches: see Topic.BusResynced.
    let lostAt: number | undefined;
    this.subscriber.on("close", () => (lostAt ??= Date.now()));
    this.subscriber.on("ready", () => {
      if (lostAt === undefined) return;
      const since = new Date(lostAt).toISOString();
      lostAt = undefined;
      log.warn({ since }, "redis link back: caches dropped, live views re-read");
      this.publish(Topic.BusResynced, { since });
    });
    this.subscriber.on("message", (_channel, raw: string) => {
      let wire: Wire;
      try {
        wire = JSON.parse(raw) as Wire;
      } catch {
        return log.warn("ignoring a malformed event from redis");
      }
      if (wire.o !== this.origin) this.deliver(wire.t, wire.p, { remote: true });
    });
    await this.subscriber.connect();
    await this.subscriber.subscribe(channel);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }

  publish<T extends Topic>(topic: T, payload: Payloads[T]): void {
    this.deliver(topic, payload, { remote: false });
    if (this.redis) {
      const wire: Wire = { o: this.origin, t: topic, p: payload };
      this.redis.client.publish(this.redis.channel, JSON.stringify(wire)).catch((error: Error) => {
        this.redis!.log.warn({ err: error.message, topic }, "could not publish an event to redis");
      });
    }
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    // A failing subscriber must never break the publisher (the ingest path).
    const safe = (payload: Payloads[T], delivery: Delivery) => {
      try {
        handler(payload, delivery);
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

  private deliver(topic: Topic, payload: unknown, delivery: Delivery): void {
    this.emitter.emit(topic, payload, delivery);
  }
}
