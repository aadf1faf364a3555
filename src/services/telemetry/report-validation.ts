import type { JsonValue } from "../../platform/json.js";
import { badInput } from "../../platform/errors.js";

export interface ReportLimits {
  readonly keysPerReport: number;
  readonly keyLength: number;
  readonly stringBytes: number;
}

const KEY_CHARS = /^[A-Za-z0-9_.:-]+$/;

/** A key as it may appear in an error message: bounded and printable. */
function shown(key: string): string {
  const printable = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
  return printable;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks a report's `data` against the limits and returns it typed. Top-level values may be numbers,
 * booleans, strings or null; objects and arrays are kept as JSON. Every refusal names the key.
 */
export function validateReportData(data: unknown, limits: ReportLimits, name = "data"): Record<string, JsonValue> {
  if (!isPlainObject(data)) throw badInput(`${name} must be a JSON object of key/value pairs`);
  const keys = Object.keys(data);
  if (keys.length > limits.keysPerReport) {
    throw badInput(`${name} has ${keys.length} keys; at most ${limits.keysPerReport} are accepted per report`);
  }
  for (const key of keys) {
    if (key.length < 1 || key.length > limits.keyLength || !KEY_CHARS.test(key)) {
      throw badInput(`key ${shown(key)} is not acceptable: keys are 1-${limits.keyLength} characters of A-Z a-z 0-9 _ . : -`);
    }
    const value = data[key];
    if (typeof value === "string" && Buffer.byteLength(value, "utf8") > limits.stringBytes) {
      throw badInput(`value of key ${shown(key)} is longer than ${limits.stringBytes} bytes`);
    }
    if (typeof value === "number" && !Number.isFinite(value)) throw badInput(`value of key ${shown(key)} is not a finite number`);
  }
  return data as Record<string, JsonValue>;
}

/** The device token of a request: body or query as the contract says, else X-Device-Token or Bearer. */
export function deviceTokenOf(explicit: unknown, headers: Record<string, string | string[] | undefined>): string | undefined {
  if (explicit !== undefined && explicit !== null) {
    if (typeof explicit !== "string") throw badInput("device_token must be a string");
    if (explicit.length > 0) return explicit;
  }
  const header = headers["x-device-token"];
  if (typeof header === "string" && header.length > 0) return header;
  const auth = headers.authorization;
  if (typeof auth === "string" && /^Bearer\s+\S/i.test(auth)) return auth.replace(/^Bearer\s+/i, "").trim();
  return undefined;
}
