import type { JsonValue } from "../../../platform/json.js";
import { sameValue } from "../../telemetry/device-state.model.js";

interface Cause {
  key: string;
  value: JsonValue;
  depth: number;
  until: number; // epoch ms
}

const TTL_MS = 5 * 60_000; // 5 min: a command not confirmed by then no longer explains a report
const MAX_DEVICES = 10_000;

/**
 * How deep in a chain of rules a report is. A rule's command reaches the next rule only through a
 * device: it becomes a desired value, the device applies it and reports it. So a command given by a
 * rule at depth d is remembered here, and the report that confirms it (same key, same value) is
 * evaluated at depth d + 1; an ordinary report is at depth 0. In memory of the process that gave the
 * command: a confirmation that reaches another process starts again at 0, and the per-rule firing
 * limit (stored in the database) still stops that loop.
 */
export class Causation {
  private readonly pending = new Map<string, Cause[]>();

  note(deviceId: string, key: string, value: JsonValue, depth: number): void {
    const causes = (this.pending.get(deviceId) ?? []).filter((c) => c.key !== key);
    causes.push({ key, value, depth, until: Date.now() + TTL_MS });
    this.pending.delete(deviceId); // re-inserted last: the map's order is the eviction order
    this.pending.set(deviceId, causes);
    if (this.pending.size > MAX_DEVICES) this.pending.delete(this.pending.keys().next().value!);
  }

  /** The depth of a report: the deepest command it confirms. Confirmed and expired commands are forgotten. */
  depthOf(deviceId: string, data: Record<string, JsonValue>): number {
    const causes = this.pending.get(deviceId);
    if (!causes) return 0;
    const now = Date.now();
    let depth = 0;
    const rest = causes.filter((c) => {
      if (c.until < now) return false;
      if (!Object.hasOwn(data, c.key) || !sameValue(data[c.key]!, c.value)) return true;
      depth = Math.max(depth, c.depth);
      return false;
    });
    if (rest.length > 0) this.pending.set(deviceId, rest);
    else this.pending.delete(deviceId);
    return depth;
  }
}
