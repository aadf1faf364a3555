import type { FastifyInstance } from "fastify";
import { historySchemas } from "./history.schemas.js";
import type { Config } from "../../src/platform/config.js";
import { VERSION } from "../../src/platform/version.js";

/**
 * The REST compatibility API (contract/rest-compat.md) as an OpenAPI 3.1 document, served at
 * GET /openapi.json and rendered at GET /docs. Each route carries its own operation
 * (`config.openapi`, see ./device.docs.ts, ./app.docs.ts, ./service.docs.ts); the document is built
 * from the routes actually registered, so what is served is what is documented. The limits in it
 * are the running server's configuration.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type Security = Array<Record<string, string[]>>;

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: Record<string, JsonObject>;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, Record<string, JsonObject>>;
}

export const EXAMPLE_DEVICE_ID = "7d1f6a2e-3b4c-4d5e-8f90-123456789abc";
export const EXAMPLE_TOKEN = "q8V1mZ0cXy3b7T2sKf9LwR4nH6pJ5dAe1uGoB0iC2zE";
export const EXAMPLE_TIME = "2026-02-12T16:00:00.000Z";
export const REPORTED = { v0: 1, v1: 0, temperature: 25.5, humidity: 60 };

export const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });
export const json = (schema: Json, example: Json) => ({ "application/json": { schema, example } });
export const error = (description: string, detail: string) => ({ description, content: json(ref("schemas", "Error"), { detail }) });

/** The refusals every device request can meet; each operation picks the ones that apply to it. */
export function refusals(config: Config): Record<string, JsonObject> {
  return {
    400: error(
      "The body is not JSON, `data` is not an object, a key or value is not acceptable, or the device id is malformed. `detail` names the offending key.",
      'key "bad key" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -',
    ),
    403: error("The device token is missing, wrong, or not this device's.", "Invalid device token"),
    404: error("No device with this id.", "Device not found"),
    413: error(
      `The body is larger than ${config.limits.bodyBytes} bytes (MAX_BODY_BYTES); refused before it is parsed.`,
      "Request body is larger than the limit",
    ),
    415: error("The content type is not JSON.", "Content-Type must be application/json"),
    429: ref("responses", "TooManyRequests"),
    503: error("Storage is unavailable. Nothing was half-written; the device retries later.", "Storage is unavailable; nothing was stored, retry later"),
  };
}

export const pick = (all: Record<string, JsonObject>, codes: number[]) => Object.fromEntries(codes.map((code) => [String(code), all[code]!]));

/** What an operation's description may use: the server's configuration and the shared pieces. */
export interface DocContext {
  readonly config: Config;
  readonly refused: Record<string, JsonObject>;
  /** The rate-limit headers of a counted answer. */
  readonly counted: JsonObject;
}

/** A route's operation, given the running server's configuration. */
export type OperationDoc = (ctx: DocContext) => OpenApiOperation;

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's OpenAPI operation; routes without one are listed by `routeDocs(app).undocumented`. */
    openapi?: OperationDoc;
  }
}

interface RouteDocs {
  readonly documented: Array<{ method: string; url: string; doc: OperationDoc }>;
  readonly undocumented: string[];
}

const collected = new WeakMap<FastifyInstance, RouteDocs>();

/** Records every route registered from now on; call before the routes are added. */
export function collectRouteDocs(app: FastifyInstance): RouteDocs {
  const docs: RouteDocs = { documented: [], undocumented: [] };
  app.addHook("onRoute", (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== "HEAD");
    const doc = route.config?.openapi;
    for (const method of methods) {
      if (doc) docs.documented.push({ method: method.toLowerCase(), url: route.url, doc });
      else docs.undocumented.push(`${method} ${route.url}`);
    }
  });
  collected.set(app, docs);
  return docs;
}

export function routeDocs(app: FastifyInstance): RouteDocs {
  const docs = collected.get(app);
  if (!docs) throw new Error("collectRouteDocs(app) was not called before the routes were added");
  return docs;
}

/** `/devices/:device_id/telemetry` as OpenAPI writes it. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, "{$1}");

export function openApiDocument(config: Config, routes: RouteDocs["documented"]): OpenApiDocument {
  const { limits, rateLimit } = config;
  const window = rateLimit.windowMs / 1000;
  const ctx: DocContext = {
    config,
    refused: refusals(config),
    counted: {
      "RateLimit-Limit": ref("headers", "RateLimit-Limit"),
      "RateLimit-Remaining": ref("headers", "RateLimit-Remaining"),
      "RateLimit-Reset": ref("headers", "RateLimit-Reset"),
    },
  };
  const deviceTokenBody = {
    type: "object",
    properties: {
      device_token: { type: "string", description: "The device's token. May instead be sent as `X-Device-Token` or `Authorization: Bearer`." },
      data: ref("schemas", "ReportData"),
      ts: {
        type: ["integer", "string"],
        description:
          "When the values were measured: epoch milliseconds or ISO 8601 with a zone. Unset: the server's receive time. " +
          "At most 5 minutes ahead, and within HISTORY_RAW_RETENTION_DAYS; per key, a value older than the one reported goes to history only.",
      },
    },
    required: ["data"],
  };
  const paths: OpenApiDocument["paths"] = {};
  for (const { method, url, doc } of routes) (paths[openApiPath(url)] ??= {})[method] = doc(ctx);
  return {
    openapi: "3.1.0",
    info: {
      title: "ThingsNXT REST compatibility API",
      version: VERSION,
      description:
        "The plain HTTP/JSON endpoints that deployed ESP32 firmware and existing clients use. Their shapes are fixed. " +
        'Timestamps are ISO 8601 UTC with milliseconds and `Z`. Errors are `{"detail": "<reason>"}`. ' +
        `Requests are rate limited to ${rateLimit.max} per ${window} s: device requests per device, others per client address; ` +
        "`/`, `/health`, `/health/live`, `/health/ready`, `/metrics`, `/docs` and `/logout` are exempt. The app's full API is GraphQL at `/graphql`.",
    },
    tags: [
      { name: "device", description: "Endpoints the firmware calls, authenticated by the device token." },
      { name: "app", description: "App-side endpoints kept for existing clients, authenticated by an access token." },
      { name: "ota", description: "Firmware images: uploaded by the app (access token), downloaded by the device offered one (device token)." },
      { name: "service", description: "Index, health and documentation." },
    ],
    paths,
    components: {
      securitySchemes: {
        deviceTokenQuery: { type: "apiKey", in: "query", name: "device_token", description: "The device token as a query parameter (GET /telemetry/latest)." },
        deviceTokenHeader: { type: "apiKey", in: "header", name: "X-Device-Token", description: "The device token in a header." },
        deviceBearer: { type: "http", scheme: "bearer", description: "The device token as `Authorization: Bearer <device token>`." },
        accessToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A user's access token (from GraphQL `login`)." },
      },
      headers: {
        "RateLimit-Limit": { description: "Requests allowed per window.", schema: { type: "integer" } },
        "RateLimit-Remaining": { description: "Requests left in this window.", schema: { type: "integer" } },
        "RateLimit-Reset": { description: "Seconds until the window resets.", schema: { type: "integer" } },
        "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
      },
      responses: {
        TooManyRequests: {
          description: `More than ${rateLimit.max} requests in ${window} s (per device for device requests, else per client address).`,
          headers: {
            "Retry-After": ref("headers", "Retry-After"),
            "RateLimit-Limit": ref("headers", "RateLimit-Limit"),
            "RateLimit-Remaining": ref("headers", "RateLimit-Remaining"),
            "RateLimit-Reset": ref("headers", "RateLimit-Reset"),
          },
          content: json(ref("schemas", "Error"), { detail: `Rate limit exceeded: ${rateLimit.max} requests per window; retry in 1 minute` }),
        },
      },
      schemas: {
        Error: {
          type: "object",
          properties: { detail: { type: "string", description: "A human readable reason." } },
          required: ["detail"],
        },
        ReportData: {
          type: "object",
          description:
            `The device's values by key: at most ${limits.keysPerReport} keys of 1-${limits.keyLength} characters of A-Z a-z 0-9 _ . : -. ` +
            `Values are numbers, booleans, strings (at most ${limits.stringBytes} UTF-8 bytes) or null; objects and arrays are kept as JSON. ` +
            "Output pins are `v0`, `v1`, ...; firmware reads `v0` as 0/1 and falls back to `led`.",
          maxProperties: limits.keysPerReport,
          propertyNames: { pattern: `^[A-Za-z0-9_.:-]{1,${limits.keyLength}}$` },
          additionalProperties: { type: ["number", "boolean", "string", "null", "object", "array"] },
          examples: [REPORTED],
        },
        TelemetryRequest: deviceTokenBody,
        State: {
          type: "object",
          description: "The device's current state: reported values with pending commands laid over them.",
          additionalProperties: true,
        },
        TelemetryResponse: {
          type: "object",
          properties: {
            message: { const: "ok" },
            device_id: { type: "string", format: "uuid" },
            data: ref("schemas", "State"),
            timestamp: { type: "string", format: "date-time" },
          },
          required: ["message", "device_id", "data", "timestamp"],
        },
        ...historySchemas,
        LegacyTelemetryResponse: {
          type: "object",
          properties: {
            message: { const: "ok" },
            device_id: { type: "string", format: "uuid" },
            led: { type: "number", description: "`updated_data.led`, else `updated_data.v0`, else 0." },
            updated_data: ref("schemas", "State"),
            timestamp: { type: "string", format: "date-time" },
          },
          required: ["message", "device_id", "led", "updated_data", "timestamp"],
        },
        LatestResponse: {
          type: "object",
          properties: {
            device_id: { type: "string", format: "uuid" },
            data: ref("schemas", "State"),
            timestamp: { type: ["string", "null"], format: "date-time", description: "When the device last reported; null if never." },
          },
          required: ["device_id", "data", "timestamp"],
        },
        WidgetStateRequest: {
          type: "object",
          properties: { state: { enum: [0, 1, true, false] } },
          required: ["state"],
        },
        WidgetStateResponse: {
          type: "object",
          properties: {
            message: { const: "ok" },
            state: { enum: [0, 1] },
            virtual_pin: { type: "string", examples: ["v0"] },
            timestamp: { type: "string", format: "date-time" },
          },
          required: ["message", "state", "virtual_pin", "timestamp"],
        },
        LogoutResponse: {
          type: "object",
          properties: {
            message: { type: "string" },
            tokens_deleted: { type: "integer", minimum: 0 },
            already_logged_out: { type: "boolean" },
          },
          required: ["message", "tokens_deleted", "already_logged_out"],
        },
        Health: {
          type: "object",
          properties: {
            status: { enum: ["healthy", "degraded"] },
            timestamp: { type: "string", format: "date-time" },
            database: { enum: ["connected", "disconnected"] },
            version: { type: "string" },
            uptime_seconds: { type: "integer", minimum: 0 },
          },
          required: ["status", "timestamp", "database"],
        },
        Index: {
          type: "object",
          properties: {
            message: { type: "string" },
            version: { type: "string" },
            docs: { const: "/docs" },
            health: { const: "/health" },
            graphql: { const: "/graphql" },
          },
          required: ["message", "version", "docs", "health", "graphql"],
        },
      },
    },
  };
}
