import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Services } from "../src/platform/services.js";
import { AUTH_FAILURES, authenticate, bearerOf } from "../src/platform/user-token.js";
import { AppError, invalidDeviceToken } from "../src/platform/errors.js";
import { tooLarge } from "../src/services/ota/firmware.store.js";
import { resolveDevice } from "./device.routes.js";
import { firmwareUpdateDoc, uploadFirmwareDoc } from "./openapi/ota.docs.js";

type Query = Record<string, string | string[] | undefined>;
const one = (query: Query, name: string) => (Array.isArray(query[name]) ? query[name][0] : query[name]);

/** `bytes=N-`, `bytes=N-M` or `bytes=-S`; null: no usable Range (the whole image is sent); "unsatisfiable": 416. */
export function rangeOf(header: string | undefined, size: number): { start: number; end: number } | null | "unsatisfiable" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null; // several ranges or another unit: ignored, as RFC 9110 allows
  if (m[1] === "") {
    const suffix = Number(m[2]);
    return suffix === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || start > end ? "unsatisfiable" : { start, end };
}

/**
 * Firmware images: the app uploads them (`POST /firmware`, access token); devices download the one
 * they are offered (`GET /firmware/update`, device token), compatible with Arduino-ESP32's HTTPUpdate.
 * Both stream: neither side of a transfer holds the whole image in memory.
 */
export function otaRoutes(app: FastifyInstance, services: Services): void {
  const max = services.config.ota.maxFirmwareBytes;
  // Scoped: only this route takes raw bytes; everywhere else a non-JSON body stays a 415.
  void app.register(async (scope) => {
    scope.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));
    scope.post("/firmware", { bodyLimit: max, config: { openapi: uploadFirmwareDoc } }, async (request, reply) => {
      const auth = await authenticate(services.sessions, bearerOf(request.headers.authorization));
      if (!auth.ok) return reply.status(AUTH_FAILURES[auth.reason].status).send({ detail: AUTH_FAILURES[auth.reason].message });
      // A declared length over the limit is refused before a byte is read; an undeclared one while streaming.
      if (Number(request.headers["content-length"] ?? 0) > max) throw tooLarge(max);
      if (!(request.body instanceof Readable)) throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/octet-stream");
      const query = request.query as Query;
      const f = await services.firmwares.upload(auth.claims.userId, one(query, "title"), one(query, "version"), request.body);
      return reply
        .status(201)
        .send({ id: f.id, title: f.title, version: f.version, size: f.size, sha256: f.sha256, md5: f.md5, createdAt: f.createdAt.toISOString() });
    });
  });

  app.get("/firmware/update", { config: { deviceRoute: true, openapi: firmwareUpdateDoc } }, async (request, reply) => {
    const device = await resolveDevice(services, request);
    if (!device) throw invalidDeviceToken();
    const offer = await services.releases.offerFor(device.id);
    const header = request.headers["x-esp32-version"];
    const running = (Array.isArray(header) ? header[0] : header) ?? one(request.query as Query, "version");
    if (!offer || running === offer.version) return reply.status(304).send();
    const range = rangeOf(request.headers.range, offer.size);
    reply.header("accept-ranges", "bytes").header("etag", `"${offer.sha256}"`).header("cache-control", "no-store");
    if (range === "unsatisfiable") return reply.status(416).header("content-range", `bytes */${offer.size}`).send({ detail: "Range not satisfiable" });
    reply.header("content-type", "application/octet-stream").header("x-md5", offer.md5).header("x-sha256", offer.sha256);
    const { start, end } = range ?? { start: 0, end: offer.size - 1 };
    if (range) reply.status(206).header("content-range", `bytes ${start}-${end}/${offer.size}`);
    if (request.method === "GET") await services.releases.downloading(offer.releaseId, device.id, device.ownerId); // not for a HEAD
    return send(reply, Readable.from(services.firmwares.read(offer.firmwareId, start, end), { objectMode: false, highWaterMark: 1 }), end - start + 1);
  });
}

function send(reply: FastifyReply, body: Readable, length: number): FastifyReply {
  return reply.header("content-length", String(length)).send(body);
}
