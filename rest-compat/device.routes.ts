import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Services } from "../src/platform/services.js";
import { UUID_RE } from "../src/platform/ids.js";
import type { DeviceInfo } from "../src/services/devices/device-directory.service.js";
import { badInput } from "../src/platform/errors.js";
import { latestStateDoc, legacyTelemetryDoc, reportTelemetryDoc } from "./openapi/device.docs.js";
import { batchTelemetryDoc } from "./openapi/history.docs.js";
import { LONG_POLL_MAX_SECONDS } from "../src/services/telemetry/long-poll.service.js";
import { deviceTokenOf } from "../src/services/telemetry/report-validation.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The device the request's token belongs to, once resolved (also the rate-limit key). */
    deviceAuth?: Promise<DeviceInfo | undefined>;
  }
  interface FastifyContextConfig {
    deviceRoute?: boolean;
  }
}

type Body = Record<string, unknown> | undefined;

function tokenOf(request: FastifyRequest): string | undefined {
  const explicit = request.method === "GET" ? (request.query as Record<string, unknown>).device_token : (request.body as Body)?.device_token;
  return deviceTokenOf(explicit, request.headers);
}

/** The device of the request's token, looked up once per request (memory after the first time). */
export function resolveDevice(services: Services, request: FastifyRequest): Promise<DeviceInfo | undefined> {
  request.deviceAuth ??= (async () => services.ingest.authenticate(tokenOf(request)))();
  return request.deviceAuth;
}

function objectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badInput("Request body must be a JSON object");
  return body as Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The firmware's endpoints, byte for byte as contract/rest-compat.md. Each handler parses the
 * request, calls the ingest core and shapes its answer; nothing else happens here.
 */
export function deviceRoutes(app: FastifyInstance, services: Services): void {
  const config = { deviceRoute: true };
  const { ingest } = services;

  app.post<{ Params: { device_id: string } }>("/devices/:device_id/telemetry", { config: { ...config, openapi: reportTelemetryDoc } }, async (request) => {
    const id = request.params.device_id;
    if (!UUID_RE.test(id)) throw badInput("device id is malformed: expected a UUID");
    const body = objectBody(request);
    const device = await ingest.authorize(id, await resolveDevice(services, request));
    const receipt = await ingest.report(device, body.data, "http", body.ts);
    return { message: "ok", device_id: receipt.deviceId, data: receipt.merged, timestamp: iso(receipt.at) };
  });

  app.post<{ Params: { device_id: string } }>(
    "/devices/:device_id/telemetry/batch",
    { bodyLimit: services.config.history.batchBodyBytes, config: { ...config, openapi: batchTelemetryDoc } },
    async (request) => {
      const id = request.params.device_id;
      if (!UUID_RE.test(id)) throw badInput("device id is malformed: expected a UUID");
      const body = objectBody(request);
      const device = await ingest.authorize(id, await resolveDevice(services, request));
      const receipt = await ingest.reportBatch(device, body.records);
      return { message: "ok", device_id: receipt.deviceId, accepted: receipt.accepted, data: receipt.merged, timestamp: iso(receipt.at) };
    },
  );

  app.post("/telemetry", { config: { ...config, openapi: legacyTelemetryDoc } }, async (request) => {
    const body = objectBody(request);
    const receipt = await ingest.report(await resolveDevice(services, request), body.data);
    // Key-bound widgets show the device's latest reported values, so "updating the widgets" needs no
    // write here; webhooks for telemetry_update listen to the TelemetryReported event.
    return { message: "ok", device_id: receipt.deviceId, led: ledOf(receipt.merged), updated_data: receipt.merged, timestamp: iso(receipt.at) };
  });

  app.get<{ Querystring: { wait?: string } }>("/telemetry/latest", { config: { ...config, openapi: latestStateDoc } }, async (request, reply) => {
    const wait = waitOf(request.query.wait);
    const device = await resolveDevice(services, request);
    let aborted: AbortSignal | undefined;
    if (wait > 0) {
      // Only a held poll needs to know that its client left (an AbortController per poll is measurable).
      const gone = new AbortController();
      request.raw.once("close", () => gone.abort());
      aborted = gone.signal;
    }
    const answer = await ingest.poll(device, wait, aborted);
    // Advertises the long poll; firmware that does not know the header ignores it.
    reply.header("x-long-poll-max", String(LONG_POLL_MAX_SECONDS));
    return { device_id: answer.deviceId, data: answer.merged, timestamp: answer.reportedAt === null ? null : iso(answer.reportedAt) };
  });
}

/** `wait` of the long poll: absent means a plain poll; more than the maximum is cut to it. */
function waitOf(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,6}$/.test(raw)) throw badInput("wait must be a whole number of seconds");
  return Math.min(Number(raw), LONG_POLL_MAX_SECONDS);
}

/** The legacy `led`: `updated_data.led`, else `updated_data.v0`, else 0; always a number for firmware. */
export function ledOf(merged: Record<string, unknown>): number {
  const value = merged.led ?? merged.v0 ?? 0;
  if (typeof value === "boolean") return Number(value);
  return typeof value === "number" ? value : Number(value) || 0;
}
