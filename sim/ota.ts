// Over-the-air updates of a simulated device, as the firmware answers them (firmware/README.md, "Over-the-air
// updates"): the offer under the state key `ota`, the image from GET /firmware/update (device token and
// x-ESP32-version headers), its size and SHA-256 checked, fw_state reported at each step (each step waits until
// a report carried it), then a "reboot" that reports fw_version = the offered version. A device made with
// `fails` reports FAILED after the download instead (simulate's --ota-failure-rate picks that share of the
// fleet), to exercise a release's abort threshold.
import { createHash } from "node:crypto";
import { networkReason } from "./http.js";

export interface Offer {
  version: string;
  size: number;
  sha256: string;
  url: string;
  release?: string;
}

export interface OtaOptions {
  baseUrl: string;
  token: string;
  version: string;
  fails: boolean;
  timeoutMs: number;
  signal: AbortSignal;
  say(text: string, debug: boolean): void;
}

/** The `ota` key of a state, when it is a usable offer. */
export function offerOf(data: Record<string, unknown>): Offer | undefined {
  const o = data.ota as Record<string, unknown> | undefined;
  if (typeof o !== "object" || o === null) return undefined;
  const { version, size, sha256, url, release } = o;
  if (typeof version !== "string" || !version || typeof size !== "number" || size < 1 || typeof sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(sha256))
    return undefined;
  return {
    version,
    size,
    sha256: sha256.toLowerCase(),
    url: typeof url === "string" && url ? url : "/firmware/update",
    release: typeof release === "string" ? release : undefined,
  };
}

export class SimOta {
  version: string;
  private readonly pending = new Map<string, string>(); // fw_* keys the next report carries
  private lastSent = new Map<string, string>();
  private busy = false;
  private readonly failed = new Set<string>(); // releases (or digests) that failed here: not retried
  private acked: (() => void) | undefined;

  constructor(private readonly o: OtaOptions) {
    this.version = o.version;
    this.pending.set("fw_version", o.version); // every boot
  }

  /** The fw_* keys for a report about to go out. */
  fields(): Record<string, string> {
    this.lastSent = new Map(this.pending);
    return Object.fromEntries(this.pending);
  }

  /** A report was accepted: what it carried leaves the queue. */
  reportAccepted(): void {
    for (const [key, value] of this.lastSent) if (this.pending.get(key) === value) this.pending.delete(key);
    this.lastSent.clear();
    if (this.pending.size === 0) this.acked?.();
  }

  /** A state from the server; starts an update when it offers another version. */
  see(data: Record<string, unknown>): void {
    const offer = offerOf(data);
    if (!offer || this.busy || offer.version === this.version || this.failed.has(offer.release ?? offer.sha256)) return;
    this.busy = true;
    void this.update(offer).finally(() => (this.busy = false));
  }

  private async update(offer: Offer): Promise<void> {
    this.o.say(`OTA offer ${offer.version} (${offer.size} bytes); downloading`, false);
    if (!(await this.step({ fw_state: "DOWNLOADING" }))) return;
    const problem = await this.download(offer);
    if (problem === "withdrawn") return this.o.say("OTA offer withdrawn (304)", false);
    const failure = problem ?? (this.o.fails ? "simulated failure (--ota-failure-rate)" : undefined);
    if (failure) {
      this.failed.add(offer.release ?? offer.sha256);
      this.o.say(`OTA failed: ${failure}`, false);
      await this.step({ fw_state: "FAILED", fw_error: failure });
      return;
    }
    if (!(await this.step({ fw_state: "DOWNLOADED" }))) return;
    if (!(await this.step({ fw_state: "UPDATING" }))) return;
    // The "reboot": the new image starts and says which version it runs.
    this.version = offer.version;
    this.o.say(`OTA rebooted into ${offer.version}`, false);
    await this.step({ fw_version: offer.version });
  }

  /** Queues the keys and resolves once a report carried them (false: the device stopped first). */
  private step(fields: Record<string, string>): Promise<boolean> {
    for (const [key, value] of Object.entries(fields)) this.pending.set(key, value);
    if (fields.fw_state && !fields.fw_error) this.pending.delete("fw_error");
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.acked = undefined;
        this.o.signal.removeEventListener("abort", stopped);
        resolve(ok);
      };
      const stopped = () => done(false);
      this.acked = () => done(true);
      this.o.signal.addEventListener("abort", stopped, { once: true });
    });
  }

  /** Streams the image through SHA-256; undefined when it is the offered one, else what was wrong. */
  private async download(offer: Offer): Promise<string | undefined> {
    const url = /^https?:\/\//.test(offer.url) ? offer.url : `${this.o.baseUrl}${offer.url}`;
    try {
      const response = await fetch(url, {
        headers: { "x-device-token": this.o.token, "x-esp32-version": this.version },
        signal: AbortSignal.any([this.o.signal, AbortSignal.timeout(this.o.timeoutMs)]),
      });
      if (response.status === 304) return "withdrawn";
      if (response.status !== 200 || !response.body) return `download refused (HTTP ${response.status})`;
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of response.body) {
        hash.update(chunk);
        size += chunk.length;
      }
      if (size !== offer.size) return `the image is ${size} bytes, the offer says ${offer.size}`;
      const digest = hash.digest("hex");
      return digest === offer.sha256 ? undefined : `sha256 mismatch (image ${digest.slice(0, 16)}..., offer ${offer.sha256.slice(0, 16)}...)`;
    } catch (e) {
      return `download failed: ${networkReason(e)}`;
    }
  }
}
