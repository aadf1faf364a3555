// The two waits of a device: an HTTP exchange that never throws, and a sleep that stop() cuts short.

export interface Answer {
  status: number; // 0: no answer (network error, timeout, or stopped)
  failure?: "timeout" | "network";
  /** Why there was no answer, for people: "ECONNREFUSED", "connection closed", "no answer within 10 s". */
  reason?: string;
  headers: Headers;
  body: unknown; // parsed JSON, undefined when the body is not JSON
}

/** One request; failures come back as status 0 so the caller handles them like a 5xx (the firmware does). */
export async function exchange(url: string, timeoutMs: number, stop: AbortSignal, init: RequestInit = {}): Promise<Answer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.any([stop, timeout]) });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body };
  } catch (e) {
    const timedOut = timeout.aborted;
    const reason = timedOut ? `no answer within ${timeoutMs / 1000} s` : networkReason(e);
    return { status: 0, failure: timedOut ? "timeout" : "network", reason, headers: new Headers(), body: undefined };
  }
}

/** fetch says only "fetch failed" (or "terminated"); the reason is in its cause. */
export function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  // undici's name for a socket the server closed mid-request (a restart, a proxy cutting a held poll)
  if (cause?.code === "UND_ERR_SOCKET") return "connection closed";
  if (typeof cause?.code === "string") return cause.code; // ECONNREFUSED, ECONNRESET, ENOTFOUND, ...
  if (typeof cause?.message === "string") return cause.message;
  return e instanceof Error ? e.message : String(e);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.ceil(ms));
    signal.addEventListener("abort", done, { once: true });
  });
}
