import { http } from "./server.js";

/**
 * Plays the deployed firmware: keeps a local copy of its output pins, reports all of them plus
 * `led` (a copy of v0) and `timestamp` (millis) on V2, and polls /telemetry/latest, applying every
 * vN it receives (falling back to `led` when no vN is present), exactly as the sketch does.
 */
export class FakeFirmware {
  readonly pins: Record<string, number> = { v0: 0, v1: 0 };
  private readonly bootedAt = Date.now();

  constructor(
    private readonly base: string,
    readonly id: string,
    private readonly token: string,
  ) {}

  async report(extra: Record<string, unknown> = {}) {
    const data = { ...this.pins, led: this.pins.v0, timestamp: Date.now() - this.bootedAt, ...extra };
    const res = await http(this.base, "POST", `/devices/${this.id}/telemetry`, { body: { device_token: this.token, data } });
    if (res.status !== 200) throw new Error(`report failed: ${res.status} ${res.text}`);
    return res.body as { data: Record<string, unknown> };
  }

  async poll() {
    const res = await http(this.base, "GET", `/telemetry/latest?device_token=${encodeURIComponent(this.token)}`);
    if (res.status !== 200) throw new Error(`poll failed: ${res.status} ${res.text}`);
    const data = res.body.data as Record<string, unknown>;
    const pins = Object.keys(data).filter((k) => /^v\d+$/.test(k));
    if (pins.length === 0 && data.led !== undefined) this.pins.v0 = Number(data.led);
    for (const pin of pins) this.pins[pin] = Number(data[pin]);
    return data;
  }

  /** Someone presses the physical switch. */
  flip(pin: string, value: number) {
    this.pins[pin] = value;
  }
}
