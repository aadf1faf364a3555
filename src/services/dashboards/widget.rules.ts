import type { JsonValue } from "../../platform/json.js";
import { UUID_RE } from "../../platform/ids.js";
import { badInput } from "../../platform/errors.js";

/** Every widget type the app draws. `led` is the only output (a switch the app controls). */
export const WIDGET_TYPES = [
  "card",
  "gauge",
  "indicator",
  "chart",
  "digital",
  "thermometer",
  "tank",
  "battery",
  "status",
  "energy",
  "led",
  "connectivity",
] as const;
const OUTPUT_TYPES: ReadonlySet<string> = new Set(["led"]);

export const MAX_WIDGETS_PER_DASHBOARD = 100;
const MAX_CONFIG_BYTES = 8 * 1024; // 8 KiB of JSON: layout hints, colours, ranges; not a data store
const DEFAULT_SIZE = { width: 4, height: 2 }; // a third of the 12-column grid, two rows
const MAX_PIN = 255;
const KEY_CHARS = /^[A-Za-z0-9_.:-]+$/;

/** A well-formed id, lower-cased; undefined for anything else (which then behaves like an unknown id). */
export function idOf(id: string | null | undefined): string | undefined {
  return typeof id === "string" && UUID_RE.test(id) ? id.toLowerCase() : undefined;
}

export const isOutput = (type: string): boolean => OUTPUT_TYPES.has(type);

export function checkType(type: string): string {
  if (!(WIDGET_TYPES as readonly string[]).includes(type)) {
    throw badInput(`type ${JSON.stringify(type.slice(0, 40))} is not a widget type; valid types: ${WIDGET_TYPES.join(", ")}`);
  }
  return type;
}

export function checkText(value: string, field: string, max = 100): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw badInput(`${field} must be 1 to ${max} characters`);
  return trimmed;
}

/** Optional text: blank means none. */
export function checkOptionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === undefined || value === null || value.trim() === "") return null;
  return checkText(value, field, max);
}

/**
 * vN, any case, stored lower-cased because firmware matches `v0` exactly. Leading zeros are
 * refused: `v01` would never reach the device's `v1`.
 */
export function checkPin(pin: string): string {
  const match = /^v(0|[1-9]\d{0,2})$/i.exec(pin.trim());
  if (!match || Number(match[1]) > MAX_PIN) throw badInput(`virtualPin must be v0 to v${MAX_PIN} (like v0, v1)`);
  return `v${match[1]}`;
}

/** The lowest vN that none of `used` holds. */
export function lowestFreePin(used: readonly string[]): string {
  const taken = new Set(used);
  let n = 0;
  while (taken.has(`v${n}`)) n++;
  if (n > MAX_PIN) throw badInput(`every virtual pin up to v${MAX_PIN} of this device is taken`);
  return `v${n}`;
}

/** Same rule as report keys, so a widget can bind any key a device may report. */
export function checkKey(key: string, maxLength: number): string {
  if (key.length < 1 || key.length > maxLength || !KEY_CHARS.test(key)) {
    throw badInput(`key must be 1-${maxLength} characters of A-Z a-z 0-9 _ . : -`);
  }
  return key;
}

export function checkConfig(config: Record<string, unknown> | null | undefined): Record<string, JsonValue> {
  if (config === undefined || config === null) return {};
  if (Buffer.byteLength(JSON.stringify(config), "utf8") > MAX_CONFIG_BYTES) throw badInput(`config must be at most ${MAX_CONFIG_BYTES} bytes of JSON`);
  return config as Record<string, JsonValue>;
}

export function checkSize(value: number | null | undefined, field: "width" | "height"): number {
  if (value === undefined || value === null) return DEFAULT_SIZE[field];
  if (!Number.isInteger(value) || value < 1 || value > 12) throw badInput(`${field} must be 1 to 12`);
  return value;
}

/**
 * An output level as firmware reads it: the integer 0 or 1. true/false are the app's switch; "0"/"1"
 * are the same two levels as text, which loosely typed clients send. Anything else (2, "on", null)
 * is refused rather than guessed.
 */
export function normalizeState(state: unknown): 0 | 1 {
  if (state === 1 || state === true || state === "1") return 1;
  if (state === 0 || state === false || state === "0") return 0;
  throw badInput(state === undefined ? "state is missing: send 0, 1, true or false" : "state must be 0, 1, true or false");
}
