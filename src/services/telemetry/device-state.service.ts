import type { JsonValue } from "../../platform/json.js";
import type { DeviceInfo } from "../devices/device-directory.service.js";
import {
  applyDelivered,
  applyDesired,
  applyReport,
  desiredValuesOf,
  hasUndelivered,
  mergedOf,
  type DeviceStateData,
  type Values,
} from "./device-state.model.js";
import { Topic, type EventBus, type StateSnapshot } from "../../platform/event-bus.js";
import { notFound } from "../../platform/errors.js";
import type { HistoryRow, StateWriter } from "./state-writer.js";

type Outcome =
  | { kind: "report"; ownerId: string; data: Values; at: number; confirmed: string[]; overridden: string[] }
  | { kind: "desired"; ownerId: string }
  | { kind: "delivered" };

export function snapshotOf(state: DeviceStateData): StateSnapshot {
  return {
    deviceId: state.deviceId,
    reported: { ...state.reported },
    desired: desiredValuesOf(state),
    merged: mergedOf(state),
    reportedAt: state.reportedAt === null ? null : new Date(state.reportedAt).toISOString(),
    version: state.version,
  };
}

function historyOf(deviceId: string, data: Values, at: number): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const k in data) {
    const value = data[k]!;
    // Booleans are also kept as 0/1 so a chart of an output pin can aggregate (duty cycle).
    const n = typeof value === "number" ? value : typeof value === "boolean" ? Number(value) : null;
    rows.push({ d: deviceId, k, t: at, n, v: typeof value === "number" ? null : value });
  }
  return rows;
}

/**
 * Reported / desired / merged state of devices (DESIGN.md). Every transport (V2, legacy, GraphQL)
 * goes through these methods.
 */
export class DeviceStateService {
  constructor(
    private readonly writer: StateWriter,
    private readonly bus: EventBus,
  ) {}

  /** Publishes the events of committed changes; called by the writer after each commit. */
  onCommitted(results: Array<{ state: DeviceStateData; result: unknown }>): void {
    for (const { state, result } of results) {
      const outcome = result as Outcome | undefined;
      if (!outcome || outcome.kind === "delivered") continue;
      if (outcome.kind === "report") {
        this.bus.publish(Topic.TelemetryReported, {
          deviceId: state.deviceId,
          ownerId: outcome.ownerId,
          data: outcome.data,
          timestamp: new Date(outcome.at).toISOString(),
        });
      }
      this.bus.publish(Topic.DeviceStateChanged, {
        deviceId: state.deviceId,
        ownerId: outcome.ownerId,
        state: snapshotOf(state),
        confirmed: outcome.kind === "report" ? outcome.confirmed : [],
        overridden: outcome.kind === "report" ? outcome.overridden : [],
        commanded: outcome.kind === "desired",
      });
    }
  }

  /** Store a report durably; resolves with the state after it (merged is what the device should apply). */
  async report(device: DeviceInfo, data: Values, at: number): Promise<DeviceStateData> {
    const { state } = await this.writer.submit<Outcome>({
      deviceId: device.id,
      run: (current) => {
        const { next, confirmed, overridden } = applyReport(current, data, at);
        return {
          next,
          history: historyOf(device.id, data, at),
          result: { kind: "report", ownerId: device.ownerId, data, at, confirmed, overridden },
        };
      },
    });
    return state;
  }

  /** Commands for a device: they become desired values the device picks up on its next poll. */
  async setDesired(device: DeviceInfo, values: Record<string, JsonValue>, at = Date.now()): Promise<DeviceStateData> {
    const { state } = await this.writer.submit<Outcome>({
      deviceId: device.id,
      run: (current) => ({ next: applyDesired(current, values, at), result: { kind: "desired", ownerId: device.ownerId } }),
    });
    return state;
  }

  getMany(deviceIds: readonly string[]): Promise<Map<string, DeviceStateData>> {
    return this.writer.readMany(deviceIds);
  }

  async get(deviceId: string): Promise<DeviceStateData> {
    const state = await this.writer.read(deviceId);
    if (!state) throw notFound("Device not found");
    return state;
  }

  /**
   * What a polling device receives. Pending commands in the answer count as delivered from now on;
   * that mark is written in the background (a poll costs no write of its own, and most polls carry
   * nothing new). Only the poll delivers: firmware may ignore the data in telemetry responses.
   */
  async poll(device: DeviceInfo, at = Date.now()): Promise<DeviceStateData> {
    const state = await this.get(device.id);
    if (hasUndelivered(state)) {
      this.writer
        .submit<Outcome>({
          deviceId: device.id,
          run: (current) => {
            const next = applyDelivered(current, at);
            return next ? { next, result: { kind: "delivered" } } : null;
          },
        })
        .catch(() => undefined); // if the mark is lost, a differing report counts as stale: the command stays pending
    }
    return state;
  }

  forget(deviceId: string): void {
    this.writer.forget(deviceId);
  }
}
