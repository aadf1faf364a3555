import type { Config } from "../src/platform/config.js";
import { VERSION } from "../src/platform/version.js";

/**
 * The REST compatibility API (contract/rest-compat.md) as an OpenAPI 3.1 document, served at
 * GET /openapi.json and rendered at GET /docs. Written by hand, next to the routes it describes; the
 * limits in it are the running server's configuration, so the document never disagrees with it.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

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
const EXAMPLE_TOKEN = "q8V1mZ0cXy3b7T2sKf9LwR4nH6pJ5dAe1uGoB0iC2zE";
const EXAMPLE_TIME = "2026-02-12T16:00:00.000Z";
const REPORTED = { v0: 1, v1: 0, temperature: 25.5, humidity: 60 };

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: Json, example: Json) => ({ "application/json": { schema, example } });
const error = (description: string, detail: string) => ({ description, content: json(ref("schemas", "Error"), { detail }) });

/** The refusals every device request can meet; each operation picks the ones that apply to it. */
function refusals(config: Config): Record<string, JsonObject> {
  return {
    400: error(
      "The body is not JSON, `data` is not an object, a key or value is not acceptable, or the device id is malformed. `detail` names the offending key.",
      'key "bad key" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -',
    ),
    403: error("The device token is missing, wrong, or not this device's.", "Invalid device token"),
    404: error("No device with this id.", "Device not found"),
    413: error(`The body is larger than ${config.limits.bodyBytes} bytes (MAX_BODY_BYTES); refused before it is parsed.`, "Request body is larger than the limit"),
    415: error("The content type is not JSON.", "Content-Type must be application/json"),
    429: ref("responses", "TooManyRequests"),
    503: error("Storage is unavailable. Nothing was half-written; the device retries later.", "Storage is unavailable; nothing was stored, retry later"),
  };
}

const pick = (all: Record<string, JsonObject>, codes: number[]) => Object.fromEntries(codes.map((code) => [String(code), all[code]!]));

export function openApiDocument(config: Config): OpenApiDocument {
  const { limits, rateLimit } = config;
  const window = rateLimit.windowMs / 1000;
  const refused = refusals(config);
  const counted = {
    "RateLimit-Limit": ref("headers", "RateLimit-Limit"),
    "RateLimit-Remaining": ref("headers", "RateLimit-Remaining"),
    "RateLimit-Reset": ref("headers", "RateLimit-Reset"),
  };
  const deviceTokenBody = {
    type: "object",
    properties: {
      device_token: { type: "string", description: "The device's token. May instead be sent as `X-Device-Token` or `Authorization: Bearer`." },
      data: ref("schemas", "ReportData"),
    },
    required: ["data"],
  };
  const telemetryBody = {
    required: true,
    description: "`data` holds the device's values; the token is found in `device_token`, else `X-Device-Token`, else `Authorization: Bearer`.",
    content: {
      "application/json": {
        schema: ref("schemas", "TelemetryRequest"),
        examples: {
          report: { summary: "A report with the token in the body", value: { device_token: EXAMPLE_TOKEN, data: REPORTED } },
          firmware: {
            summary: "What real firmware sends: local pin copies, led, and millis() as timestamp",
            value: { device_token: EXAMPLE_TOKEN, data: { v0: 1, v1: 0, led: 1, temperature: 25.5, timestamp: 123456 } },
          },
        },
      },
    },
  };
  const postDeviceSecurity: Array<Record<string, string[]>> = [{ deviceTokenHeader: [] }, { deviceBearer: [] }, {}];

  return {
    openapi: "3.1.0",
    info: {
      title: "ThingsNXT REST compatibility API",
      version: VERSION,
      description:
        "The plain HTTP/JSON endpoints that deployed ESP32 firmware and existing clients use. Their shapes are fixed. " +
        "Timestamps are ISO 8601 UTC with milliseconds and `Z`. Errors are `{\"detail\": \"<reason>\"}`. " +
        `Requests are rate limited to ${rateLimit.max} per ${window} s: device requests per device, others per client address; ` +
        "`/`, `/health`, `/docs` and `/logout` are exempt. The app's full API is GraphQL at `/graphql`.",
    },
    tags: [
      { name: "device", description: "Endpoints the firmware calls, authenticated by the device token." },
      { name: "app", description: "App-side endpoints kept for existing clients, authenticated by an access token." },
      { name: "service", description: "Index, health and documentation." },
    ],
    paths: {
      "/devices/{device_id}/telemetry": {
        post: {
          operationId: "reportTelemetry",
          summary: "Report telemetry (V2, recommended)",
          description:
            "Stores the report, then answers the device's current state: the reported values with any pending commands laid over them, " +
            "as the device should apply them. The 200 is sent only after the report is durably committed.",
          tags: ["device"],
          security: postDeviceSecurity,
          parameters: [
            { name: "device_id", in: "path", required: true, description: "The device's id (a UUID).", schema: { type: "string", format: "uuid" }, example: EXAMPLE_DEVICE_ID },
          ],
          requestBody: telemetryBody,
          responses: {
            200: {
              description: "Accepted and durably stored.",
              headers: counted,
              content: json(ref("schemas", "TelemetryResponse"), { message: "ok", device_id: EXAMPLE_DEVICE_ID, data: REPORTED, timestamp: EXAMPLE_TIME }),
            },
            ...pick(refused, [400, 403, 404, 413, 415, 429, 503]),
          },
        },
      },
      "/telemetry": {
        post: {
          operationId: "reportTelemetryLegacy",
          summary: "Report telemetry (legacy)",
          description:
            "Same body as V2; the device is found by its token. `updated_data` is the device's current state (as V2's `data`), and " +
            "`led` is `updated_data.led`, else `updated_data.v0`, else 0. Also updates the widgets bound to the reported keys and fires " +
            "the owner's `telemetry_update` webhooks.",
          tags: ["device"],
          security: postDeviceSecurity,
          requestBody: telemetryBody,
          responses: {
            200: {
              description: "Accepted and durably stored.",
              headers: counted,
              content: json(ref("schemas", "LegacyTelemetryResponse"), {
                message: "ok",
                device_id: EXAMPLE_DEVICE_ID,
                led: 1,
                updated_data: REPORTED,
                timestamp: EXAMPLE_TIME,
              }),
            },
            ...pick(refused, [400, 403, 413, 415, 429, 503]),
          },
        },
      },
      "/telemetry/latest": {
        get: {
          operationId: "latestState",
          summary: "Poll the device's current state",
          description:
            "The poll a device makes every few seconds to learn what the app wants: reported values with pending commands laid over them. " +
            "A device that never reported anything gets `{}` and a null `timestamp`.",
          tags: ["device"],
          security: [{ deviceTokenQuery: [] }, { deviceTokenHeader: [] }, { deviceBearer: [] }],
          parameters: [
            {
              name: "device_token",
              in: "query",
              required: false,
              description: "The device's token (or send `X-Device-Token` / `Authorization: Bearer`).",
              schema: { type: "string" },
              example: EXAMPLE_TOKEN,
            },
            {
              name: "wait",
              in: "query",
              required: false,
              description:
                "Long poll, optional: wait up to this many seconds for a change before answering. Servers that support it answer with " +
                "`X-Long-Poll-Max` (the longest wait they grant); servers that do not ignore it and answer at once.",
              schema: { type: "integer", minimum: 0 },
              example: 25,
            },
          ],
          responses: {
            200: {
              description: "The device's current state.",
              headers: {
                ...counted,
                "X-Long-Poll-Max": {
                  description: "Sent by servers that support `wait`: the longest wait, in seconds, they grant.",
                  schema: { type: "integer", minimum: 0 },
                },
              },
              content: {
                "application/json": {
                  schema: ref("schemas", "LatestResponse"),
                  examples: {
                    reported: { summary: "A device that has reported", value: { device_id: EXAMPLE_DEVICE_ID, data: { v0: 1, v1: 0, temperature: 25.5 }, timestamp: EXAMPLE_TIME } },
                    fresh: { summary: "A device that never reported", value: { device_id: EXAMPLE_DEVICE_ID, data: {}, timestamp: null } },
                  },
                },
              },
            },
            400: error("`device_token` was given more than once (it must be one string).", "device_token must be a string"),
            ...pick(refused, [403, 429, 503]),
          },
        },
      },
      "/widgets/{widget_id}/state": {
        post: {
          operationId: "setWidgetState",
          summary: "Switch a widget (the app's LED switch)",
          description: "Sets the widget's state; the command reaches the device through its next poll (or telemetry response).",
          tags: ["app"],
          security: [{ accessToken: [] }],
          parameters: [{ name: "widget_id", in: "path", required: true, description: "The widget's id.", schema: { type: "string" } }],
          requestBody: {
            required: true,
            content: json(ref("schemas", "WidgetStateRequest"), { state: 1 }),
          },
          responses: {
            200: {
              description: "The command was stored.",
              headers: counted,
              content: json(ref("schemas", "WidgetStateResponse"), { message: "ok", state: 1, virtual_pin: "v0", timestamp: EXAMPLE_TIME }),
            },
            400: error("`state` is not 0, 1, true or false.", "state must be 0, 1, true or false"),
            401: error("No valid access token.", "Sign in: send Authorization: Bearer <access token>"),
            404: error("No such widget among the caller's (a widget of someone else is a 404 too, never a 403).", "Widget not found"),
            ...pick(refused, [413, 415, 429, 503]),
          },
        },
      },
      "/logout": {
        post: {
          operationId: "logout",
          summary: "Log out",
          description: "Revokes the access token and the user's refresh tokens. Idempotent, and never rate limited.",
          tags: ["app"],
          security: [{ accessToken: [] }, {}],
          responses: {
            200: {
              description: "Logged out, or already logged out.",
              content: json(ref("schemas", "LogoutResponse"), { message: "Logged out", tokens_deleted: 1, already_logged_out: false }),
            },
            503: refused[503]!,
          },
        },
      },
      "/health": {
        get: {
          operationId: "health",
          summary: "Health",
          description: "Never rate limited.",
          tags: ["service"],
          responses: {
            200: {
              description: "Healthy: the database answers.",
              content: json(ref("schemas", "Health"), { status: "healthy", timestamp: EXAMPLE_TIME, database: "connected", version: VERSION, uptime_seconds: 3600 }),
            },
            503: {
              description: "Degraded: the database does not answer.",
              content: json(ref("schemas", "Health"), { status: "degraded", timestamp: EXAMPLE_TIME, database: "disconnected", version: VERSION, uptime_seconds: 3600 }),
            },
          },
        },
      },
      "/": {
        get: {
          operationId: "index",
          summary: "Service index",
          description: "Never rate limited.",
          tags: ["service"],
          responses: {
            200: {
              description: "Where things are.",
              content: json(ref("schemas", "Index"), { message: "ThingsNXT API", version: VERSION, docs: "/docs", health: "/health", graphql: "/graphql" }),
            },
          },
        },
      },
      "/docs": {
        get: {
          operationId: "docs",
          summary: "This documentation, as HTML",
          description: "Never rate limited. The same document as JSON is at `/openapi.json`.",
          tags: ["service"],
          responses: { 200: { description: "A readable HTML page.", content: { "text/html": { schema: { type: "string" } } } } },
        },
      },
    },
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
