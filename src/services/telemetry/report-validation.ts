import type { JsonValue } from "../../platform/json.js";
import { badInput } from "../../platform/errors.js";
import { checkText, isPrototypeKey, PROTOTYPE_KEYS_TEXT } from "../../platform/text.js";

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

/** How deep objects and arrays may nest inside a reported value; the value of a key is level 1. */
export const MAX_DEPTH = 8;

/** A value still to be checked; its path is built only for a message (most reports have none). */
interface Pending {
  readonly value: unknown;
  readonly parent: Pending | undefined;
  readonly segment: string;
  readonly depth: number;
}

function pathOf(entry: Pending): string {
  let path = "";
  for (let at: Pending | undefined = entry; at; at = at.parent) path = at.segment + path;
  return path;
}

/** A string value, or a key below the top level (those have no character set of their own). */
function checkString(value: string, entry: Pending, limits: ReportLimits, what: "value of key" | "key"): void {
  if (Buffer.byteLength(value, "utf8") > limits.stringBytes) {
    throw badInput(`${what} ${shown(pathOf(entry))} is longer than ${limits.stringBytes} bytes`);
  }
  const problem = checkText(value, `${what} ${shown(pathOf(entry))}`);
  if (problem) throw badInput(problem);
}

/**
 * The same limits at every depth, with an explicit stack rather than recursion: a body of a
 * 20,000-deep array parses fine, and the walk gives up at MAX_DEPTH + 1 whatever the depth.
 */
function checkValue(value: unknown, key: string, limits: ReportLimits): void {
  const stack: Pending[] = [{ value, parent: undefined, segment: key, depth: 1 }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const v = entry.value;
    if (typeof v === "string") checkString(v, entry, limits, "value of key");
    else if (typeof v === "number") {
      if (!Number.isFinite(v)) throw badInput(`value of key ${shown(pathOf(entry))} is not a finite number`);
    } else if (typeof v === "object" && v !== null) {
      if (entry.depth > MAX_DEPTH) throw badInput(`value of key ${shown(pathOf(entry))} nests deeper than ${MAX_DEPTH} levels`);
      const depth = entry.depth + 1;
      // Pushed in reverse so children are checked in document order.
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: entry, segment: `[${i}]`, depth });
      } else {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const k = keys[i]!;
          const child: Pending = { value: (v as Record<string, unknown>)[k], parent: entry, segment: `.${k}`, depth };
          if (isPrototypeKey(k)) throw badInput(`key ${shown(pathOf(child))} is not acceptable: ${PROTOTYPE_KEYS_TEXT} are reserved`);
          checkString(k, child, limits, "key");
          stack.push(child);
        }
      }
    }
  }
}

/**
 * Checks a report's `data` against the limits and returns it typed. Top-level values may be numbers,
 * booleans, strings or null; objects and arrays are kept as JSON. Every refusal names the key, and
 * nothing PostgreSQL text or jsonb cannot hold gets through: a refused value would otherwise fail
 * the group commit it travels in.
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
    if (isPrototypeKey(key)) throw badInput(`key ${shown(key)} is not acceptable: ${PROTOTYPE_KEYS_TEXT} are reserved`);
    checkValue(data[key], key, limits);
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
