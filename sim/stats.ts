// Fleet counters for the live summary line and the final summary.
import type { DeviceListener, RequestKind, SimDevice } from "./device.js";
import { FIRMWARE } from "./protocol.js";

export interface Totals {
  seconds: number;
  devices: number;
  online: number;
  offline: number;
  longPolling: number;
  stopped: number;
  posts: number;
  polls: number;
  errors: number;
  errorsByKind: Record<string, number>;
  commands: number;
  /** Reports that went out, and how long the accepted ones waited for their 2xx or PUBACK. */
  sent: number;
  latencyMs: { p50: number; p95: number } | undefined;
}

/** What the summary calls a report and a state answer: HTTP posts and polls, MQTT publishes and state messages. */
export interface Nouns {
  reports: string;
  answers: string;
}

export const HTTP_NOUNS: Nouns = { reports: "posts", answers: "polls" };
export const MQTT_NOUNS: Nouns = { reports: "publishes", answers: "state messages" };

/** Enough recent report latencies for steady percentiles, in bounded memory however big the fleet. */
const LATENCY_SAMPLES = 4096;

export class Stats {
  private readonly startedAt: number;
  private readonly onlineUntil = new Map<string, number>();
  private readonly longPolling = new Set<string>();
  private readonly errorsByKind = new Map<string, number>();
  private readonly stoppedDevices = new Set<string>();
  private readonly offlineDevices = new Set<string>();
  private posts = 0;
  private polls = 0;
  private commands = 0;
  private sent = 0;
  private readonly latencies: number[] = [];
  private latencyAt = 0;
  private window: { at: number; posts: number; polls: number };

  /**
   * `onlineWindowMs`: a device is online when it got a 2xx within this time (two report intervals), or
   * longer by one held poll while it long-polls (its next answer may be that far away).
   */
  constructor(
    private readonly devices: number,
    private readonly onlineWindowMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly nouns: Nouns = HTTP_NOUNS,
  ) {
    this.startedAt = now();
    this.window = { at: this.startedAt, posts: 0, polls: 0 };
  }

  /** The listener to hand every device. */
  readonly listener: DeviceListener = {
    ok: (device: SimDevice, kind: RequestKind, latencyMs: number) => {
      const held = device.longPollWaitS > 0 ? (device.longPollWaitS + FIRMWARE.longPollSlackS) * 1000 : 0;
      this.onlineUntil.set(device.name, this.now() + this.onlineWindowMs + held);
      if (kind === "telemetry") {
        this.posts++;
        this.latencies[this.latencyAt] = latencyMs;
        this.latencyAt = (this.latencyAt + 1) % LATENCY_SAMPLES;
      } else {
        this.polls++;
        if (held > 0) this.longPolling.add(device.name);
        else this.longPolling.delete(device.name);
      }
    },
    sent: () => {
      this.sent++;
    },
    error: (_device: SimDevice, _kind: RequestKind, what: string) => {
      this.errorsByKind.set(what, (this.errorsByKind.get(what) ?? 0) + 1);
    },
    forbidden: (device: SimDevice) => {
      // A refused token always stops the device: it is no longer online, whatever it got before.
      this.stoppedDevices.add(device.name);
      this.onlineUntil.delete(device.name);
      this.longPolling.delete(device.name);
    },
    command: () => {
      this.commands++;
    },
    link: (device: SimDevice, online: boolean) => {
      if (online) {
        this.offlineDevices.delete(device.name);
      } else {
        // Not online until its next 2xx, however recent the last one was.
        this.offlineDevices.add(device.name);
        this.onlineUntil.delete(device.name);
        this.longPolling.delete(device.name);
      }
    },
  };

  totals(): Totals {
    const now = this.now();
    let online = 0;
    for (const until of this.onlineUntil.values()) if (now <= until) online++;
    const errorsByKind = Object.fromEntries([...this.errorsByKind].sort(([a], [b]) => a.localeCompare(b)));
    return {
      seconds: (now - this.startedAt) / 1000,
      devices: this.devices,
      online,
      offline: this.offlineDevices.size,
      longPolling: this.longPolling.size,
      stopped: this.stoppedDevices.size,
      posts: this.posts,
      polls: this.polls,
      errors: Object.values(errorsByKind).reduce((a, b) => a + b, 0),
      errorsByKind,
      commands: this.commands,
      sent: this.sent,
      latencyMs: percentiles(this.latencies),
    };
  }

  /** The live line: rates since the previous live line, so a stall shows at once. */
  liveLine(): string {
    const t = this.totals();
    const now = this.now();
    const seconds = Math.max((now - this.window.at) / 1000, 0.001);
    const postRate = (t.posts - this.window.posts) / seconds;
    const pollRate = (t.polls - this.window.polls) / seconds;
    this.window = { at: now, posts: t.posts, polls: t.polls };
    return (
      `[${t.seconds.toFixed(0).padStart(4)} s] online ${t.online}/${t.devices}${more(t)}` +
      ` | ${this.nouns.reports} ${postRate.toFixed(1)}/s | ${this.nouns.answers} ${pollRate.toFixed(1)}/s | errors ${errors(t)} | commands applied ${t.commands}`
    );
  }

  finalLine(): string {
    const t = this.totals();
    const per = (n: number) => (t.seconds > 0 ? n / t.seconds : 0).toFixed(1);
    return (
      `Final summary after ${t.seconds.toFixed(1)} s: devices ${t.devices} (online ${t.online}${more(t)})` +
      ` | ${this.nouns.reports} ${t.posts} (${per(t.posts)}/s) | ${this.nouns.answers} ${t.polls} (${per(t.polls)}/s)` +
      ` | errors ${errors(t)} | commands applied ${t.commands}` +
      ` | reports sent ${t.sent}, acknowledged ${t.posts}` +
      (t.latencyMs ? `, latency p50 ${t.latencyMs.p50} ms, p95 ${t.latencyMs.p95} ms` : "")
    );
  }
}

/** Only when there is something to say: ", long polling 5, offline 2, stopped 1". */
const more = (t: Totals) =>
  (t.longPolling > 0 ? `, long polling ${t.longPolling}` : "") +
  (t.offline > 0 ? `, offline ${t.offline}` : "") +
  (t.stopped > 0 ? `, stopped ${t.stopped}` : "");

/** "0", or "7 (503: 5, timeout: 2)". */
function errors(t: Totals): string {
  const kinds = Object.entries(t.errorsByKind).map(([kind, n]) => `${kind}: ${n}`);
  return kinds.length === 0 ? "0" : `${t.errors} (${kinds.join(", ")})`;
}

/** Nearest-rank percentiles in whole milliseconds; undefined before the first accepted report. */
function percentiles(samples: readonly number[]): Totals["latencyMs"] {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
  return { p50: at(0.5), p95: at(0.95) };
}
