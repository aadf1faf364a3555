// One simulated ESP32: the scheduling and reactions of firmware/…/thingsnxt/device.cpp and requests.cpp,
// over Node's fetch. One request at a time, like the firmware's loop(), so a long poll is held at most until
// the next report is due (see pollWaitS).
import {
  applyState,
  Backoff,
  classify,
  FIRMWARE,
  negotiateLongPoll,
  parseRetryAfter,
  Sensors,
  stateOf,
  telemetryData,
  type Counters,
  type PinChange,
  type Pins,
} from "./protocol.js";
import { exchange, sleep, type Answer } from "./http.js";
import { Link, outageReason } from "./link.js";

export type RequestKind = "telemetry" | "poll";

/** What a device tells the simulator; every callback is optional so tests can listen to one thing. */
export interface DeviceListener {
  ok?(device: SimDevice, kind: RequestKind): void;
  /** `what`: an HTTP status ("503"), "timeout", "network" or "not a state". */
  error?(device: SimDevice, kind: RequestKind, what: string): void;
  command?(device: SimDevice, change: PinChange, source: RequestKind): void;
  /** The device lost the server (false) or got an answer again (true); once per change. */
  link?(device: SimDevice, online: boolean): void;
  /** Operator lines; `debug` ones are what the firmware prints only with `debug on`. */
  line?(device: SimDevice, text: string, debug: boolean): void;
}

export interface SimDeviceOptions {
  baseUrl: string;
  id: string;
  token: string;
  name: string;
  telemetryIntervalMs?: number;
  pollIntervalMs?: number;
  healthIntervalMs?: number;
  httpTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** false: ignore X-Long-Poll-Max and poll plainly, as firmware before long polling did. */
  longPoll?: boolean;
  /** Boot this much later, so a fleet started together does not fire in lockstep. */
  startDelayMs?: number;
  random?: () => number;
  listener?: DeviceListener;
}

interface Channel {
  kind: RequestKind | "health";
  intervalMs: number;
  dueAt: number;
  backoff: Backoff;
}

export type DeviceState = "idle" | "running" | "forbidden" | "stopped";

export class SimDevice {
  readonly pins: Pins = { v0: 0, v1: 0, v2: 0, v3: 0 }; // outputs start LOW, as after a brown-out
  readonly counters: Counters = { sent: 0, failed: 0, polls: 0, commands: 0 }; // reported as stats.*
  state: DeviceState = "idle";
  /** The negotiated maximum wait, min(25, X-Long-Poll-Max); 0: plain polling. Each poll asks for at most this. */
  longPollWaitS = 0;
  private readonly o: Required<Omit<SimDeviceOptions, "listener">> & { listener: DeviceListener };
  private readonly telemetry: Channel;
  private readonly poll: Channel;
  private readonly health: Channel;
  private readonly sensors: Sensors;
  private readonly abort = new AbortController();
  private gateUntil = 0; // a 429 pauses every request kind until then
  private reportAfterFirstPoll = true;
  private lastWasReport = false; // the last request sent was a report
  private bootedAt = 0;
  private readonly link = new Link();

  constructor(options: SimDeviceOptions) {
    this.o = {
      telemetryIntervalMs: FIRMWARE.telemetryIntervalMs,
      pollIntervalMs: FIRMWARE.pollIntervalMs,
      healthIntervalMs: FIRMWARE.healthIntervalMs,
      httpTimeoutMs: FIRMWARE.httpTimeoutMs,
      backoffBaseMs: FIRMWARE.backoffBaseMs,
      backoffCapMs: FIRMWARE.backoffCapMs,
      longPoll: true,
      startDelayMs: 0,
      random: Math.random,
      listener: {},
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
    };
    const channel = (kind: Channel["kind"], intervalMs: number): Channel => ({
      kind,
      intervalMs,
      dueAt: 0,
      backoff: new Backoff(this.o.backoffBaseMs, this.o.backoffCapMs, this.o.random),
    });
    this.telemetry = channel("telemetry", this.o.telemetryIntervalMs);
    this.poll = channel("poll", this.o.pollIntervalMs);
    this.health = channel("health", this.o.healthIntervalMs);
    this.sensors = new Sensors(this.o.random);
  }

  get name(): string {
    return this.o.name;
  }

  /** The last report or poll got no usable answer (no connection, a timeout, a 5xx); health probes do not count. */
  get offline(): boolean {
    return this.link.offline;
  }

  /** Runs until stop() or a 403; resolves when the last request has settled. */
  async run(): Promise<void> {
    await this.sleep(this.o.startDelayMs);
    if (this.abort.signal.aborted) return;
    this.state = "running";
    this.bootedAt = performance.now();
    // Poll before the first report, so the report confirms the app's state instead of power-on defaults.
    this.poll.dueAt = this.health.dueAt = this.bootedAt;
    this.telemetry.dueAt = this.bootedAt + this.telemetry.intervalMs;
    while (this.state === "running") {
      const now = performance.now();
      if (now < this.gateUntil) {
        await this.sleep(this.gateUntil - now);
      } else if (now >= this.telemetry.dueAt) {
        await this.sendTelemetry(); // reports first: after a command they carry the confirmation
      } else if (now >= this.poll.dueAt && !this.pollYieldsToReport(now)) {
        await this.doPoll();
      } else if (now >= this.health.dueAt) {
        await this.checkHealth();
      } else {
        // A poll that waits for the report wakes with it (under 1 s from now).
        const pollAt = now >= this.poll.dueAt ? Infinity : this.poll.dueAt;
        await this.sleep(Math.min(this.telemetry.dueAt, pollAt, this.health.dueAt) - now);
      }
    }
  }

  /** Ends the run at once, cutting a request in flight (a held long poll would otherwise take 30 s). */
  stop(): void {
    if (this.state !== "forbidden") this.state = "stopped";
    this.abort.abort();
  }

  private async sendTelemetry(): Promise<void> {
    const startedAt = performance.now();
    const millis = Math.floor(startedAt - this.bootedAt);
    const data = telemetryData(this.pins, millis, this.sensors.read(), this.counters);
    const answer = await this.exchange(`/devices/${encodeURIComponent(this.o.id)}/telemetry`, this.o.httpTimeoutMs, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ device_token: this.o.token, data }),
    });
    this.lastWasReport = true;
    if (this.state !== "running" || !this.settle(this.telemetry, answer, startedAt)) return;
    this.counters.sent++;
    this.o.listener.ok?.(this, "telemetry");
    const state = stateOf(answer.body);
    if (state) this.applyServerState(state, "telemetry");
  }

  /**
   * One request at a time, so a held poll would hold back the next report: the wait is bounded by the
   * whole seconds left until the report is due. 0: a plain poll.
   */
  pollWaitS(now: number = performance.now()): number {
    if (this.longPollWaitS === 0) return 0;
    return Math.min(this.longPollWaitS, Math.max(0, Math.floor((this.telemetry.dueAt - now) / 1000)));
  }

  /**
   * Under 1 s to the report while long polling: report first, then hold the poll for the whole next gap.
   * Never twice in a row: when even right after a report less than 1 s is left (a telemetry interval under
   * ~1 s, or a report that took almost the whole interval), the poll goes out plain, so polls never starve.
   */
  private pollYieldsToReport(now: number): boolean {
    return this.longPollWaitS > 0 && this.pollWaitS(now) === 0 && !this.lastWasReport;
  }

  private async doPoll(): Promise<void> {
    const startedAt = performance.now();
    const wait = this.pollWaitS(startedAt);
    const path = `/telemetry/latest?device_token=${encodeURIComponent(this.o.token)}${wait > 0 ? `&wait=${wait}` : ""}`;
    const timeoutMs = wait > 0 ? (wait + FIRMWARE.longPollSlackS) * 1000 : this.o.httpTimeoutMs;
    const answer = await this.exchange(path, timeoutMs);
    this.lastWasReport = false;
    if (this.state !== "running") return;
    if (answer.status === 0 && wait > 0) {
      // A proxy may cut held connections: a plain poll's answer tells again whether long polling is on offer.
      this.longPollWaitS = 0;
      this.say("Long poll failed; back to plain polling", true);
    }
    let data: Record<string, unknown> | undefined;
    if (classify(answer.status) === "ok") {
      data = stateOf(answer.body);
      if (!data) {
        this.fail(this.poll, "not a state"); // e.g. a captive portal answering 200 with HTML
        this.lost("answer without a data object");
        this.retryLater(this.poll, "answer without a data object");
        return;
      }
    }
    if (!this.settle(this.poll, answer, startedAt)) return;
    this.counters.polls++;
    const offered = this.o.longPoll ? negotiateLongPoll(answer.headers.get("x-long-poll-max")) : 0;
    if (offered !== this.longPollWaitS) this.say(offered > 0 ? `Long polling on: wait=${offered} s` : "Long polling off", true);
    this.longPollWaitS = offered;
    this.o.listener.ok?.(this, "poll");
    this.applyServerState(data!, "poll");
    if (this.reportAfterFirstPoll) {
      this.reportAfterFirstPoll = false;
      this.telemetry.dueAt = performance.now();
    }
  }

  /** A probe only: never backs off, never counts as a failure (and /health is not rate limited). */
  private async checkHealth(): Promise<void> {
    const startedAt = performance.now();
    await this.exchange("/health", this.o.httpTimeoutMs);
    this.lastWasReport = false;
    this.health.dueAt = startedAt + this.health.intervalMs;
  }

  /** Handles every outcome but success; true on success. */
  private settle(channel: Channel, answer: Answer, startedAt: number): boolean {
    const outcome = classify(answer.status);
    if (outcome === "retry") this.lost(outageReason(answer));
    else this.answered();
    if (outcome === "ok") {
      channel.backoff.reset();
      channel.dueAt = startedAt + channel.intervalMs;
      return true;
    }
    const what = answer.failure ?? String(answer.status);
    this.fail(channel, what);
    switch (outcome) {
      case "retry":
        this.retryLater(channel, answer.reason ?? answer.failure ?? `HTTP ${answer.status}`);
        break;
      case "rate-limited": {
        const seconds = parseRetryAfter(answer.headers.get("retry-after"));
        const waitMs = seconds !== undefined ? seconds * 1000 : channel.backoff.next();
        this.gateUntil = channel.dueAt = performance.now() + waitMs;
        this.say(`${channel.kind} rate limited (429); pausing all requests for ${Math.round(waitMs)} ms`, false);
        break;
      }
      case "forbidden":
        this.state = "forbidden";
        this.say("the server rejected the device token (403); this device stops", false);
        break;
      case "rejected": {
        // The same payload would be rejected again: skip to the next regular slot.
        channel.backoff.reset();
        channel.dueAt = startedAt + channel.intervalMs;
        const detail = (answer.body as { detail?: unknown } | undefined)?.detail;
        this.say(`${channel.kind} rejected (HTTP ${answer.status}): ${typeof detail === "string" ? detail : "no detail"}`, false);
        break;
      }
    }
    return false;
  }

  private fail(channel: Channel, what: string): void {
    this.counters.failed++;
    if (channel.kind !== "health") this.o.listener.error?.(this, channel.kind, what);
  }

  private lost(reason: string): void {
    const line = this.link.lost(reason);
    if (!line) return;
    this.o.listener.link?.(this, false);
    this.say(line, false);
  }

  private answered(): void {
    const line = this.link.answered();
    if (!line) return;
    this.o.listener.link?.(this, true);
    this.say(line, false);
  }

  private retryLater(channel: Channel, why: string): void {
    const delay = channel.backoff.next();
    channel.dueAt = performance.now() + delay;
    this.say(`${channel.kind} failed (${why}); retry #${channel.backoff.failures} in ${delay} ms`, true);
  }

  private applyServerState(data: Record<string, unknown>, source: RequestKind): void {
    const changes = applyState(data, this.pins);
    for (const change of changes) {
      this.counters.commands++;
      this.o.listener.command?.(this, change, source);
      this.say(`Command from ${source}: ${change.pin}=${change.level}`, true);
    }
    // Confirm at once so the app sees its command took effect, unless reports are backing off
    // (then the retry carries the new state anyway).
    if (changes.length > 0 && this.telemetry.backoff.failures === 0) this.telemetry.dueAt = performance.now();
  }

  private exchange(path: string, timeoutMs: number, init?: RequestInit): Promise<Answer> {
    return exchange(this.o.baseUrl + path, timeoutMs, this.abort.signal, init);
  }

  private say(text: string, debug: boolean): void {
    this.o.listener.line?.(this, text, debug);
  }

  private sleep(ms: number): Promise<void> {
    return sleep(ms, this.abort.signal);
  }
}
