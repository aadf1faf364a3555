// Whether a device can talk to the server, as an operator wants to read it: one line when it goes
// offline and one when it is back, not one per failed request (those are --verbose retry lines).
import type { Answer } from "./http.js";

export class Link {
  private down = false;

  get offline(): boolean {
    return this.down;
  }

  /** A request got no usable answer; returns the line to print when this takes the device offline. */
  lost(reason: string): string | undefined {
    if (this.down) return undefined;
    this.down = true;
    return `offline (${reason}), retrying with backoff`;
  }

  /** The server answered (a 4xx is an answer too); returns the line to print when the device was offline. */
  answered(): string | undefined {
    if (!this.down) return undefined;
    this.down = false;
    return "online again";
  }
}

/** Why an answer that will be retried means "offline": "server unreachable: ECONNREFUSED", "server error: HTTP 503". */
export function outageReason(answer: Answer): string {
  if (answer.status === 0) return `server unreachable: ${answer.reason ?? answer.failure ?? "no answer"}`;
  return answer.status >= 500 ? `server error: HTTP ${answer.status}` : `unexpected answer: HTTP ${answer.status}`;
}
