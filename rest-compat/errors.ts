import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { AppError, httpStatusOf, isDatabaseUnavailable, notFoundOfForeignKey } from "../src/platform/errors.js";

/** Keeps device tokens out of every logged URL. */
export function redactUrl(url: string): string {
  return url.replace(/((?:device_)?token=)[^&#]*/gi, "$1[redacted]");
}

/** What a client is told for framework-level refusals, in the contract's `{"detail"}` shape. */
const FASTIFY_DETAIL: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "Request body is larger than the limit",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "Content-Type must be application/json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "Request body is empty; send a JSON object",
  FST_ERR_CTP_INVALID_JSON_BODY: "Request body is not valid JSON",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "Content-Length does not match the body",
};

/** One mapping from errors to `{"detail": ...}` responses for every REST route. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const error = notFoundOfForeignKey(raw) ?? raw;
    if (error instanceof AppError) {
      return reply.status(httpStatusOf(error.code)).send({ detail: error.message });
    }
    const status = (error as FastifyError).statusCode;
    if (status === 429) return reply.status(429).send({ detail: error.message });
    if (typeof status === "number" && status >= 400 && status < 500) {
      const code = (error as FastifyError).code;
      const detail = (code && FASTIFY_DETAIL[code]) ?? (error instanceof SyntaxError ? "Request body is not valid JSON" : error.message);
      return reply.status(status).send({ detail });
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ url: redactUrl(request.url), err: error.message }, "database unavailable");
      return reply.status(503).send({ detail: "Storage is unavailable; nothing was stored, retry later" });
    }
    request.log.error({ url: redactUrl(request.url), err: error }, "unhandled error");
    return reply.status(500).send({ detail: "Internal server error" });
  });
}

/**
 * Requests Node's HTTP parser refuses before any route sees them (headers too large, malformed
 * framing, a body that never arrives): answered in the contract's `{"detail"}` shape, then closed.
 * Passed to Fastify as `clientErrorHandler`.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, detail]: [number, string] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request headers are too large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "The request did not arrive in time"]
        : [400, "Malformed HTTP request"];
  refuseOnSocket(socket, status, detail);
}

function refuseOnSocket(socket: Socket, status: number, detail: string): void {
  const body = JSON.stringify({ detail });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

/**
 * A request whose body has not fully arrived `ms` after it started is answered 408 and its socket
 * closed (a slow-body client otherwise holds a socket forever). Node's own requestTimeout is
 * checked only every 30 s; this one is exact. A long poll's wait starts after its request arrived.
 */
export function installBodyTimeout(app: FastifyInstance, ms: number): void {
  app.addHook("onRequest", (request, _reply, done) => {
    if (request.raw.complete) return done();
    const timer = setTimeout(() => {
      if (!request.raw.complete && request.raw.socket.writable) refuseOnSocket(request.raw.socket, 408, "The request did not arrive in time");
    }, ms);
    timer.unref();
    request.raw.once("end", () => clearTimeout(timer));
    request.raw.once("close", () => clearTimeout(timer));
    done();
  });
}

/** Fastify's own URL refusals (a malformed URL, a parameter over maxParamLength) in the {"detail"} shape. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  const detail =
    error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "A path parameter is too long" : error.code === "FST_ERR_BAD_URL" ? "The URL is malformed" : "Bad request";
  void reply.status(status).send({ detail });
}
