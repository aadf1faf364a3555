import { hasUndelivered, type DeviceStateData } from "./device-state.model.js";
import type { DeviceStateService } from "./device-state.service.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { DeviceInfo } from "../devices/device-directory.service.js";

export const LONG_POLL_MAX_SECONDS = 30;

/**
 * GET /telemetry/latest?wait=N: answers at once when the device has a command it has not received,
 * else holds the request until a command arrives (from any process, through the event bus) or N
 * seconds pass, then answers the current state. A device gets a command in milliseconds instead of
 * at its next 3-second poll.
 */
export class LongPollService {
  private readonly waiters = new Map<string, Set<() => void>>();
  private draining = false;

  constructor(
    private readonly state: DeviceStateService,
    bus: EventBus,
  ) {
    bus.subscribe(Topic.DeviceStateChanged, ({ deviceId, commanded }) => {
      if (!commanded) return;
      const set = this.waiters.get(deviceId);
      if (!set) return;
      this.waiters.delete(deviceId);
      for (const wake of set) wake();
    });
  }

  /** Resolves with the state to answer; `aborted` ends the wait early (client went away). */
  async poll(device: DeviceInfo, waitSeconds: number, aborted: AbortSignal): Promise<DeviceStateData> {
    const now = await this.state.get(device.id);
    if (waitSeconds <= 0 || this.draining || hasUndelivered(now) || aborted.aborted) return this.state.poll(device);
    await new Promise<void>((resolve) => {
      let set = this.waiters.get(device.id);
      if (!set) this.waiters.set(device.id, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        aborted.removeEventListener("abort", done);
        set!.delete(done);
        if (set!.size === 0 && this.waiters.get(device.id) === set) this.waiters.delete(device.id);
        resolve();
      };
      const timer = setTimeout(done, waitSeconds * 1000);
      aborted.addEventListener("abort", done, { once: true });
      set.add(done);
      // A command that landed between the first read and now would otherwise wait for the timeout.
      this.state.get(device.id).then((latest) => hasUndelivered(latest) && done(), done);
    });
    return this.state.poll(device);
  }

  /** Shutdown: every held poll is answered now with the current state, and new ones do not wait. */
  drain(): void {
    this.draining = true;
    this.wakeAll();
  }

  /** Every held poll answers now with the current state (after events may have been lost). */
  wakeAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const wake of set) wake();
  }

  /** Requests waiting right now (for metrics and tests). */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
