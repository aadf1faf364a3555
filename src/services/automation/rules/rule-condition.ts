import type { JsonValue } from "../../../platform/json.js";
import { RuleOp, type RuleOperand } from "../../../entities/rule.entity.js";
import { sameValue } from "../../telemetry/device-state.model.js";
import { badInput } from "../../../platform/errors.js";

/**
 * The comparator of rules: a closed set of typed comparisons over JSON values, never code built from
 * user input (the old backend ran conditions through `eval`).
 */

const ORDERING: ReadonlySet<RuleOp> = new Set([RuleOp.GT, RuleOp.GTE, RuleOp.LT, RuleOp.LTE]);

/** Numbers as they are, booleans as 1/0 (an output pin); strings are never coerced ("31" is not 31). */
function numberOf(value: JsonValue): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return undefined;
}

/**
 * Whether a reported value meets a level condition. CHANGED is an edge, not a level: the engine
 * compares it with the previous report itself, and it never "holds" here.
 */
export function holds(op: RuleOp, actual: JsonValue, expected: JsonValue | null): boolean {
  switch (op) {
    case RuleOp.EQ:
      return sameValue(actual, expected);
    case RuleOp.NEQ:
      return !sameValue(actual, expected);
    case RuleOp.CHANGED:
      return false;
    default: {
      const a = numberOf(actual);
      if (a === undefined || typeof expected !== "number") return false;
      if (op === RuleOp.GT) return a > expected;
      if (op === RuleOp.GTE) return a >= expected;
      if (op === RuleOp.LT) return a < expected;
      return a <= expected;
    }
  }
}

/** `changed`: the key's value differs from its previous report (1 and true are the same value). */
export function changed(previous: JsonValue | undefined, actual: JsonValue): boolean {
  return previous !== undefined && !sameValue(previous, actual);
}

/** The value a rule compares with, checked against its operator. */
export function checkOperand(op: RuleOp, value: JsonValue | undefined, maxStringBytes: number): RuleOperand {
  if (op === RuleOp.CHANGED) {
    if (value !== undefined && value !== null) throw badInput("value must be null for CHANGED: it compares with the previous report");
    return null;
  }
  if (ORDERING.has(op)) {
    if (typeof value !== "number" || !Number.isFinite(value)) throw badInput(`value must be a number for ${op}`);
    return value;
  }
  if (typeof value === "string") {
    if (Buffer.byteLength(value, "utf8") > maxStringBytes) throw badInput(`value must be at most ${maxStringBytes} bytes`);
    return value;
  }
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean") return value;
  throw badInput(`value must be a number, a string or a boolean for ${op}`);
}

const SYMBOL: Record<RuleOp, string> = { GT: ">", GTE: ">=", LT: "<", LTE: "<=", EQ: "==", NEQ: "!=", CHANGED: "changed" };

/** "temperature > 30", "v0 changed": for notifications. */
export function describeCondition(key: string, op: RuleOp, value: JsonValue | null, forSeconds: number): string {
  const base = op === RuleOp.CHANGED ? `${key} changed` : `${key} ${SYMBOL[op]} ${JSON.stringify(value)}`;
  return forSeconds > 0 ? `${base} for ${forSeconds} s` : base;
}
