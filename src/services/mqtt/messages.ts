import type { StateSnapshot } from "../../platform/event-bus.js";
import type { JsonValue } from "../../platform/json.js";

/**
 * Payloads of the MQTT device contract (docs/mqtt.md). The state message is exactly what
 * `GET /telemetry/latest` answers, so firmware applies both with one function.
 */
export function stateMessage(deviceId: string, merged: Record<string, JsonValue>, reportedAt: string | number | null): Buffer {
  const timestamp = reportedAt === null ? null : new Date(reportedAt).toISOString();
  return Buffer.from(JSON.stringify({ device_id: deviceId, data: merged, timestamp }));
}

/** The old backend's command shape, one per changed pin: `{"type":"led","state":1,"virtual_pin":"v0","timestamp"}`. */
export function commandMessage(pin: string, value: JsonValue, at: number): Buffer {
  const state = value === true ? 1 : value === false ? 0 : value;
  return Buffer.from(JSON.stringify({ type: "led", state, virtual_pin: pin, timestamp: new Date(at).toISOString() }));
}

/** Desired values that differ from the ones a device was last sent: the commands to send it. */
export function changedCommands(previous: ReadonlyMap<string, string>, desired: StateSnapshot["desired"]): Array<[string, JsonValue]> {
  const changed: Array<[string, JsonValue]> = [];
  for (const key of Object.keys(desired)) {
    const value = desired[key]!;
    if (previous.get(key) !== JSON.stringify(value)) changed.push([key, value]);
  }
  return changed;
}

export function desiredFingerprint(desired: StateSnapshot["desired"]): Map<string, string> {
  return new Map(Object.keys(desired).map((key) => [key, JSON.stringify(desired[key])]));
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export class UplinkError extends Error {
  constructor(
    message: string,
    /** MQTT 5 reason code of the refusal (0x99 payload format invalid, 0x87 not authorized). */
    readonly reasonCode: number,
  ) {
    super(message);
  }
}

/** An uplink as parsed here; data, ts and records are validated by the ingest core. */
export interface Uplink {
  readonly data: unknown;
  readonly token: string | undefined;
  /** The device's time of the values, when it sends one. */
  readonly ts: unknown;
  /** A backfill batch's records (the `.../telemetry/batch` topic). */
  readonly records: unknown;
}

/**
 * An uplink payload: `{"data": {...}, "ts": ...}`, or the old backend's `{"device_token": "...",
 * "data": {...}}`; on the batch topic `{"records": [{"ts", "data"}, ...]}`. Returns its parts and
 * the token when the payload carries one.
 */
export function parseUplink(payload: Buffer): Uplink {
  let text: string;
  try {
    text = strictUtf8.decode(payload);
  } catch {
    throw new UplinkError("Payload is not valid UTF-8", 0x99);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UplinkError("Payload is not valid JSON", 0x99);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new UplinkError("Payload must be a JSON object", 0x99);
  const { data, device_token: token, ts, records } = body as Record<string, unknown>;
  if (token !== undefined && typeof token !== "string") throw new UplinkError("device_token must be a string", 0x99);
  return { data, token, ts, records };
}
