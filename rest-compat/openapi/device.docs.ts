import {
  error,
  EXAMPLE_DEVICE_ID,
  EXAMPLE_TIME,
  EXAMPLE_TOKEN,
  json,
  pick,
  ref,
  REPORTED,
  type OpenApiOperation,
  type OperationDoc,
  type Security,
} from "./document.js";

/** The firmware's endpoints (rest-compat/device.routes.ts). */

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
const postDeviceSecurity: Security = [{ deviceTokenHeader: [] }, { deviceBearer: [] }, {}];

export const reportTelemetryDoc: OperationDoc = ({ refused, counted }): OpenApiOperation => ({
  operationId: "reportTelemetry",
  summary: "Report telemetry (V2, recommended)",
  description:
    "Stores the report, then answers the device's current state: the reported values with any pending commands laid over them, " +
    "as the device should apply them. The 200 is sent only after the report is durably committed.",
  tags: ["device"],
  security: postDeviceSecurity,
  parameters: [
    {
      name: "device_id",
      in: "path",
      required: true,
      description: "The device's id (a UUID).",
      schema: { type: "string", format: "uuid" },
      example: EXAMPLE_DEVICE_ID,
    },
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
});

export const legacyTelemetryDoc: OperationDoc = ({ refused, counted }): OpenApiOperation => ({
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
});

export const latestStateDoc: OperationDoc = ({ refused, counted }): OpenApiOperation => ({
  operationId: "latestState",
  summary: "Poll the device's current state",
  description:
    "The poll a device makes every few seconds to learn what the app wants: reported values with pending commands laid over them. " +
    "A device that never reported anything gets `{}` and a null `timestamp`.",
  tags: ["device"],
  security: [{ deviceTokenQuery: [] }, { deviceTokenHeader: [] }, { deviceBearer: [] }] as Security,
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
            reported: {
              summary: "A device that has reported",
              value: { device_id: EXAMPLE_DEVICE_ID, data: { v0: 1, v1: 0, temperature: 25.5 }, timestamp: EXAMPLE_TIME },
            },
            fresh: { summary: "A device that never reported", value: { device_id: EXAMPLE_DEVICE_ID, data: {}, timestamp: null } },
          },
        },
      },
    },
    400: error("`device_token` was given more than once (it must be one string).", "device_token must be a string"),
    ...pick(refused, [403, 429, 503]),
  },
});
