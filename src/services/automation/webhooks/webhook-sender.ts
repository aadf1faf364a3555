import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { AllowList, RefusedTarget, resolveTarget, type LookupAll } from "./ssrf.js";

/** How much of a receiver's answer is read; the rest is cut off (and the connection dropped). */
const MAX_RESPONSE_BYTES = 4096;
const ERROR_EXCERPT = 200;

export interface SendResult {
  /** delivered: 2xx; failed: worth another attempt; refused: never delivered there (SSRF guard, bad URL). */
  outcome: "delivered" | "failed" | "refused";
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/**
 * Signature headers of one attempt. `X-Webhook-Signature` signs the body alone (the old backend's
 * header, so existing receivers keep working); `X-Webhook-Signature-V2` also signs the timestamp,
 * so a captured request cannot be replayed later with a fresh `X-Webhook-Timestamp`.
 */
export function signatureHeaders(secret: string, body: string, timestamp: number): Record<string, string> {
  const mac = (data: string) => createHmac("sha256", secret).update(data).digest("hex");
  return {
    "x-webhook-signature": `sha256=${mac(body)}`,
    "x-webhook-signature-v2": `t=${timestamp},v1=${mac(`${timestamp}.${body}`)}`,
    "x-webhook-timestamp": String(timestamp),
  };
}

class Deadline extends Error {}

/**
 * POSTs webhook bodies. The host is resolved and vetted by the SSRF guard, then the connection goes
 * to that vetted address (TLS still verifies the certificate against the host name). Redirects are
 * never followed; the whole attempt, DNS included, has one deadline.
 */
export class WebhookSender {
  private readonly agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 50, maxFreeSockets: 10 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 50, maxFreeSockets: 10 }),
  };

  constructor(private readonly options: { timeoutMs: number; allow: AllowList; userAgent: string; lookup?: LookupAll }) {}

  /** Resolves with the outcome; rejects only when `signal` aborts (shutdown): the attempt did not count. */
  async send(rawUrl: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const result = (outcome: SendResult["outcome"], statusCode: number | null, error: string | null): SendResult => ({
      outcome,
      statusCode,
      durationMs: elapsed(),
      error,
    });
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return result("refused", null, "url is not a valid URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return result("refused", null, "url must be http:// or https://");

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Deadline(`timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    // any(): no listener per request on the worker's shared shutdown signal.
    const aborted = signal ? AbortSignal.any([controller.signal, signal]) : controller.signal;
    try {
      const target = await abortable(resolveTarget(url.hostname, this.options.allow, this.options.lookup), aborted);
      const response = await this.post(url, target, body, headers, aborted);
      const { statusCode, text } = response;
      if (statusCode >= 200 && statusCode < 300) return result("delivered", statusCode, null);
      if (statusCode >= 300 && statusCode < 400) {
        return result("failed", statusCode, `HTTP ${statusCode}: redirect${response.location ? ` to ${excerpt(response.location)}` : ""} not followed`);
      }
      const snippet = excerpt(text);
      return result("failed", statusCode, `HTTP ${statusCode}${snippet ? `: ${snippet}` : ""}`);
    } catch (error) {
      if (signal?.aborted) throw error;
      if (error instanceof RefusedTarget) return result("refused", null, error.message);
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      return result("failed", null, describe(reason));
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.agents["http:"].destroy();
    this.agents["https:"].destroy();
  }

  private async post(url: URL, target: { address: string; family: 4 | 6 }, body: string, headers: Record<string, string>, signal: AbortSignal) {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const options: https.RequestOptions = {
      method: "POST",
      host: target.address, // the vetted address: no second DNS lookup
      family: target.family,
      port: url.port || (url.protocol === "https:" ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      agent: this.agents[url.protocol as "http:" | "https:"],
      signal,
      headers: {
        ...headers,
        host: url.host,
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": this.options.userAgent,
        ...(url.username
          ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}` }
          : {}),
      },
      ...(url.protocol === "https:" && !isIP(host) ? { servername: host } : {}),
    };
    try {
      return await this.request(url.protocol, options, body);
    } catch (error) {
      // A kept-alive connection the receiver closed while idle: the request never reached it.
      if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === "ECONNRESET" && !signal.aborted) {
        return this.request(url.protocol, { ...options, agent: false }, body);
      }
      throw error;
    }
  }

  private request(protocol: string, options: https.RequestOptions, body: string): Promise<{ statusCode: number; text: string; location: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = (protocol === "https:" ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), location: res.headers.location });
        res.on("data", (chunk: Buffer) => {
          if (size >= MAX_RESPONSE_BYTES) return;
          chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
          size += chunk.length;
          if (size >= MAX_RESPONSE_BYTES) {
            res.destroy(); // enough: the rest is not read, the socket is not reused
            done();
          }
        });
        res.on("end", done);
        res.on("error", (error) => (size >= MAX_RESPONSE_BYTES ? undefined : reject(error)));
      });
      req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
      req.end(body);
    });
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > ERROR_EXCERPT ? `${flat.slice(0, ERROR_EXCERPT)}…` : flat;
}

function describe(error: unknown): string {
  if (error instanceof Deadline) return error.message;
  const e = error as NodeJS.ErrnoException;
  const text = e?.message ?? String(error);
  return e?.code && !text.includes(e.code) ? `${e.code}: ${text}` : text;
}
