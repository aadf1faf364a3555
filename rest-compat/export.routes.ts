import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Services } from "../src/platform/services.js";
import { AUTH_FAILURES, authenticate, bearerOf } from "../src/platform/user-token.js";
import { badInput } from "../src/platform/errors.js";
import { checkTimeZone } from "../src/platform/time-zones.js";
import { parseBucket } from "../src/services/telemetry/history.service.js";
import { exportTelemetryDoc } from "./openapi/history.docs.js";

type Query = Record<string, string | string[] | undefined>;

function one(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badInput(`${name} is given more than once`);
  return value === undefined || value === "" ? undefined : value;
}

function time(query: Query, name: string, fallback: Date): Date {
  const raw = one(query, name);
  if (raw === undefined) return fallback;
  const parsed = /^\d+$/.test(raw) ? new Date(Number(raw)) : /[zZ]|[+-]\d{2}:?\d{2}$/.test(raw) ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) throw badInput(`${name} must be an ISO 8601 time with a zone or epoch milliseconds`);
  return parsed;
}

/**
 * `GET /export/telemetry.csv`: a device's history as a CSV download for its owner (Bearer access
 * token), raw or bucketed, with times in the requested zone. Another user's device is a 404.
 */
export function exportRoutes(app: FastifyInstance, services: Services): void {
  app.get("/export/telemetry.csv", { config: { openapi: exportTelemetryDoc } }, async (request, reply) => {
    const auth = await authenticate(services.sessions, bearerOf(request.headers.authorization));
    if (!auth.ok) return reply.status(AUTH_FAILURES[auth.reason].status).send({ detail: AUTH_FAILURES[auth.reason].message });
    const query = request.query as Query;
    const deviceId = one(query, "deviceId");
    if (!deviceId) throw badInput("deviceId is required");
    const device = await services.devices.requireOwned(auth.claims.userId, deviceId);
    const keys = (one(query, "keys") ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean);
    if (keys.length > 256) throw badInput("keys names more than 256 keys");
    const to = time(query, "to", new Date());
    const from = time(query, "from", new Date(0));
    if (from >= to) throw badInput("from must be before to");
    const bucket = one(query, "bucket");
    if (bucket !== undefined) parseBucket(bucket);
    const me = await services.auth.me(auth.claims.userId);
    const timeZone = checkTimeZone(one(query, "timeZone") ?? me.timeZone ?? "UTC");
    const rows = services.csvExport.rows({ deviceId: device.id, keys, from, to, timeZone, bucket });
    // The first chunk (the header, and for buckets the first key's rows) is made before the 200, so a bad
    // bucket or range is still a clean 400.
    const first = await rows.next();
    const stream = Readable.from(
      (async function* () {
        if (!first.done) yield first.value;
        yield* rows;
      })(),
    );
    return reply
      .header("content-type", "text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="telemetry-${device.id}.csv"`)
      .header("cache-control", "no-store")
      .send(stream);
  });
}
