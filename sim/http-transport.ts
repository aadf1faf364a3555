// The firmware's HTTP schedule and reactions (firmware/…/thingsnxt/device.cpp and requests.cpp) over Node's
// fetch. One request at a time, like the firmware's loop(), so a long poll is held at most until the next
// report is due (see pollWaitS).
import { Backoff, classify, FIRMWARE, negotiateLongPoll, parseRetryAfter, stateOf, type PinChange } from "./protocol.js";
import { exchange, type Answer } from "./http.js";
import { outageReason } from "./link.js";
import type { DeviceSide, Transport, TransportOptions } from "./transport.js";

interface Channel {
  kind: "telemetry" | "poll" | "health";
  intervalMs: number;
  dueAt: number;
  backoff: Backoff;
}

export class HttpTransport implements Transport {
  /** The negotiated maximum wait, min(25, X-Long-Poll-Max); 0: plain polling. Each poll asks for at most this. */
  longPollWaitS = 0;
  private readonly telemetry: Channel;
  private readonly poll: Channel;
  private readonly health: Channel;
  private gateUntil = 0; // a 429 pauses every request kind until then
  private reportAfterFirstPoll = true;
  private lastWasReport = false; // the last request sent was a report
  private d!: DeviceSide;

  constructor(private readonly o: TransportOptions) {
    const channel = (kind: Channel["kind"], intervalMs: number): Channel => ({
      kind,
      intervalMs,
      dueAt: 0,
      backoff: new Backoff(o.backoffBaseMs, o.backoffCapMs, o.random),
    });
    this.telemetry = channel("telemetry", o.telemetryIntervalMs);
    this.poll = channel("poll", o.pollIntervalMs);
    this.health = channel("health", o.healthIntervalMs);
  }

  async run(device: DeviceSide): Promise<void> {
    this.d = device;
    const bootedAt = performance.now();
    // Poll before the first report, so the report confirms the app's state instead of power-on defaults.
    this.poll.dueAt = this.health.dueAt = bootedAt;
    this.telemetry.dueAt = bootedAt + this.telemetry.intervalMs;
    while (this.d.running) {
      const now = performance.now();
      if (now < this.gateUntil) {
        await this.d.sleep(this.gateUntil - now);
      } else if (now >= this.telemetry.dueAt) {
        await this.sendTelemetry(); // reports first: after a command they carry the confirmation
      } else if (now >= this.poll.dueAt && !this.pollYieldsToReport(now)) {
        await this.doPoll();
      } else if (now >= this.health.dueAt) {
        await this.checkHealth();
      } else {
        // A poll that waits for the report wakes with it (under 1 s from now).
        const pollAt = now >= this.poll.dueAt ? Infinity : this.poll.dueAt;
        await this.d.sleep(Math.min(this.telemetry.dueAt, pollAt, this.health.dueAt) - now);
      }
    }
  }

  private async sendTelemetry(): Promise<void> {
    const startedAt = performance.now();
    const data = this.d.reading();
    this.d.sent();
    const answer = await this.exchange(`/devices/${encodeURIComponent(this.o.id)}/telemetry`, this.o.httpTimeoutMs, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ device_token: this.o.token, data }),
    });
    this.lastWasReport = true;
    if (!this.d.running || !this.settle(this.telemetry, answer, startedAt)) return;
    this.d.ok("telemetry", performance.now() - startedAt);
    const state = stateOf(answer.body);
    if (state) this.confirm(this.d.apply(state, "telemetry"));
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
    if (!this.d.running) return;
    if (answer.status === 0 && wait > 0) {
      // A proxy may cut held connections: a plain poll's answer tells again whether long polling is on offer.
      this.longPollWaitS = 0;
      this.d.say("Long poll failed; back to plain polling", true);
    }
    let data: Record<string, unknown> | undefined;
    if (classify(answer.status) === "ok") {
      data = stateOf(answer.body);
      if (!data) {
        this.d.fail("poll", "not a state"); // e.g. a captive portal answering 200 with HTML
        this.d.lost("answer without a data object");
        this.retryLater(this.poll, "answer without a data object");
        return;
      }
    }
    if (!this.settle(this.poll, answer, startedAt)) return;
    const offered = this.o.longPoll ? negotiateLongPoll(answer.headers.get("x-long-poll-max")) : 0;
    if (offered !== this.longPollWaitS) this.d.say(offered > 0 ? `Long polling on: wait=${offered} s` : "Long polling off", true);
    this.longPollWaitS = offered;
    this.d.ok("poll", performance.now() - startedAt);
    this.confirm(this.d.apply(data!, "poll"));
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
    if (outcome === "retry") this.d.lost(outageReason(answer));
    else this.d.answered();
    if (outcome === "ok") {
      channel.backoff.reset();
      channel.dueAt = startedAt + channel.intervalMs;
      return true;
    }
    this.d.fail(channel.kind, answer.failure ?? String(answer.status));
    switch (outcome) {
      case "retry":
        this.retryLater(channel, answer.reason ?? answer.failure ?? `HTTP ${answer.status}`);
        break;
      case "rate-limited": {
        const seconds = parseRetryAfter(answer.headers.get("retry-after"));
        const waitMs = seconds !== undefined ? seconds * 1000 : channel.backoff.next();
        this.gateUntil = channel.dueAt = performance.now() + waitMs;
        this.d.say(`${channel.kind} rate limited (429); pausing all requests for ${Math.round(waitMs)} ms`, false);
        break;
      }
      case "forbidden":
        this.d.forbid("the server rejected the device token (403); this device stops");
        break;
      case "rejected": {
        // The same payload would be rejected again: skip to the next regular slot.
        channel.backoff.reset();
        channel.dueAt = startedAt + channel.intervalMs;
        const detail = (answer.body as { detail?: unknown } | undefined)?.detail;
        this.d.say(`${channel.kind} rejected (HTTP ${answer.status}): ${typeof detail === "string" ? detail : "no detail"}`, false);
        break;
      }
    }
    return false;
  }

  private retryLater(channel: Channel, why: string): void {
    const delay = channel.backoff.next();
    channel.dueAt = performance.now() + delay;
    this.d.say(`${channel.kind} failed (${why}); retry #${channel.backoff.failures} in ${delay} ms`, true);
  }

  /**
   * Confirm at once so the app sees its command took effect, unless reports are backing off (then the
   * retry carries the new state anyway).
   */
  private confirm(changes: PinChange[]): void {
    if (changes.length > 0 && this.telemetry.backoff.failures === 0) this.telemetry.dueAt = performance.now();
  }

  private exchange(path: string, timeoutMs: number, init?: RequestInit): Promise<Answer> {
    return exchange(this.o.baseUrl + path, timeoutMs, this.d.signal, init);
  }
}
