// Pure pieces of the firmware protocol, ported from firmware/esp32_production_ready/src/thingsnxt
// (backoff.cpp, protocol.cpp, pin_map.cpp) so the simulator reacts to the server exactly as a device does.

/** Firmware defaults (config.h): the contract's "report every 10 s, poll every 3-5 s". */
export const FIRMWARE = Object.freeze({
  telemetryIntervalMs: 10_000, // 10 s
  pollIntervalMs: 3_000, // 3 s, measured from the start of the previous poll
  healthIntervalMs: 60_000, // 60 s
  httpTimeoutMs: 10_000, // 10 s for an ordinary request
  longPollCapS: 25, // never ask the server to hold a poll longer
  longPollSlackS: 5, // long-poll HTTP timeout = wait + 5 s
  retryAfterCapS: 3_600, // ignore absurd Retry-After values beyond 1 h
  backoffBaseMs: 1_000, // first retry after 0.5-1 s
  backoffCapMs: 60_000, // retries never further apart than 60 s
});

/** The output pins of the default pin map (v0 = GPIO 2, the onboard LED). */
export const PIN_NAMES = ["v0", "v1", "v2", "v3"] as const;
export type Pins = Record<(typeof PIN_NAMES)[number], 0 | 1>;

/**
 * Wait after the n-th consecutive failure, "equal jitter": d/2 + random[0, d/2] with d = min(cap, base·2^(n-1)).
 * Equal rather than full jitter so a retry never comes back almost at once to a server that is down.
 */
export function backoffDelay(failures: number, baseMs: number, capMs: number, random: () => number): number {
  let ceiling = baseMs;
  for (let i = 1; i < failures && ceiling < capMs; i++) ceiling *= 2;
  ceiling = Math.min(ceiling, capMs);
  const half = Math.floor(ceiling / 2);
  // random() < 1, so this picks an integer in [0, half] like the firmware's random(half + 1).
  return ceiling - half + Math.floor(random() * (half + 1));
}

/** One request kind's consecutive failures (reports and polls back off independently). */
export class Backoff {
  failures = 0;
  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number,
  ) {}

  /** Records a failure and returns the wait in ms. */
  next(): number {
    this.failures++;
    return backoffDelay(this.failures, this.baseMs, this.capMs, this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}

/** A plain unsigned integer header (no dates, no fractions: the firmware accepts nothing else). */
function parseUint(header: string | null): number | undefined {
  const text = header?.trim() ?? "";
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** Retry-After in seconds, clamped to 1 s … 1 h; undefined when missing or not a number (then: backoff). */
export function parseRetryAfter(header: string | null, capS: number = FIRMWARE.retryAfterCapS): number | undefined {
  const seconds = parseUint(header);
  return seconds === undefined ? undefined : Math.min(Math.max(seconds, 1), capS);
}

/** The `wait` to ask for after a poll answer: min(cap, X-Long-Poll-Max), 0 (plain polling) without the header. */
export function negotiateLongPoll(header: string | null, capS: number = FIRMWARE.longPollCapS): number {
  return Math.min(parseUint(header) ?? 0, capS);
}

export type Outcome = "ok" | "retry" | "rate-limited" | "forbidden" | "rejected";

/** 0 stands for "no answer" (network error or timeout), which is retried like a 5xx. */
export function classify(status: number): Outcome {
  if (status >= 200 && status < 300) return "ok";
  if (status === 403) return "forbidden";
  if (status === 429) return "rate-limited";
  if (status >= 400 && status < 500) return "rejected";
  return "retry";
}

/** Numbers (nonzero = HIGH) and booleans are levels; strings, null, objects are ignored. */
function levelOf(value: unknown): 0 | 1 | undefined {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" && Number.isFinite(value)) return value !== 0 ? 1 : 0;
  return undefined;
}

export interface PinChange {
  pin: keyof Pins;
  level: 0 | 1;
}

/**
 * Applies a server state to the pins: every `vN` of the pin map; only when the answer has no `vN` key
 * at all does `led` drive v0. Returns the pins whose level really changed (those count as commands).
 */
export function applyState(data: Record<string, unknown>, pins: Pins): PinChange[] {
  const changes: PinChange[] = [];
  const drive = (pin: keyof Pins, value: unknown) => {
    const level = levelOf(value);
    if (level === undefined || pins[pin] === level) return;
    pins[pin] = level;
    changes.push({ pin, level });
  };
  if (Object.keys(data).some((key) => /^v\d+$/.test(key))) {
    for (const pin of PIN_NAMES) if (pin in data) drive(pin, data[pin]);
  } else if ("led" in data) {
    drive("v0", data.led);
  }
  return changes;
}

/** `{"data": {...}}` of a state answer, or undefined (a captive portal's HTML is an outage, not a command). */
export function stateOf(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const data = (body as { data?: unknown }).data;
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

export interface Counters {
  sent: number; // reports accepted
  failed: number; // reports/polls without a 2xx
  polls: number; // polls answered with a state
  commands: number; // pins changed by the server
}

/** A report's `data`, keys in the firmware's order: pins, led, timestamp (millis), sensors, counters. */
export function telemetryData(pins: Pins, millis: number, sensors: Record<string, number>, c: Counters): Record<string, number> {
  return {
    ...pins,
    led: pins.v0,
    timestamp: millis,
    ...sensors,
    "stats.sent": c.sent,
    "stats.failed": c.failed,
    "stats.polls": c.polls,
    "stats.commands": c.commands,
    "stats.reconnects": 0, // the simulated network never drops
    "stats.free_heap": 262144, // host_device's fixed value
    "stats.uptime_s": Math.floor(millis / 1000),
  };
}

/** Tokens never appear in full anywhere the simulator prints: first 4 characters and an ellipsis, as the firmware does. */
export function maskToken(token: string): string {
  return `${token.slice(0, 4)}…`;
}

/** Fake sensors like host_device's: temperature drifting in 20–30 °C, humidity in 40–70 %, Wi-Fi RSSI. */
export class Sensors {
  private temperature: number;
  private humidity: number;
  private rssi: number;

  constructor(private readonly random: () => number) {
    this.temperature = 22 + random() * 4;
    this.humidity = 50 + random() * 10;
    this.rssi = -55 - Math.round(random() * 20);
  }

  read(): { temperature: number; humidity: number; rssi: number } {
    // A bounded random walk: small steps, pulled back inside the plausible band.
    const step = (value: number, size: number, low: number, high: number) => Math.min(high, Math.max(low, value + (this.random() - 0.5) * size));
    this.temperature = step(this.temperature, 0.4, 20, 30);
    this.humidity = step(this.humidity, 1.5, 40, 70);
    this.rssi = Math.round(step(this.rssi, 4, -90, -40));
    return { temperature: round1(this.temperature), humidity: round1(this.humidity), rssi: this.rssi };
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;
