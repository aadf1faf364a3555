import { AUTH_FAILURES } from "../../src/platform/user-token.js";
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

/** History endpoints: backfill (rest-compat/device.routes.ts) and CSV export (rest-compat/export.routes.ts). */

const postDeviceSecurity: Security = [{ deviceTokenHeader: [] }, { deviceBearer: [] }, {}];

export const batchTelemetryDoc: OperationDoc = ({ refused, counted }): OpenApiOperation => ({
  operationId: "backfillTelemetry",
  summary: "Backfill buffered telemetry",
  description:
    "Stores up to MAX_BATCH_RECORDS records the device buffered while offline, each with its own time, all or nothing: one refused " +
    "record (named by its index) refuses the batch. Records older than HISTORY_RAW_RETENTION_DAYS or more than 5 minutes ahead are " +
    "refused. Per key the newest time decides the reported state, so old records reach history without replacing newer values. " +
    "Points count against MAX_POINTS_PER_DAY (429 past it). Answers as V2, with `accepted`.",
  tags: ["device"],
  security: postDeviceSecurity,
  parameters: [{ name: "device_id", in: "path", required: true, description: "The device's id (a UUID).", schema: { type: "string", format: "uuid" } }],
  requestBody: {
    required: true,
    content: json(ref("schemas", "BackfillRequest"), { device_token: EXAMPLE_TOKEN, records: [{ ts: EXAMPLE_TIME, data: { temperature: 21.5 } }] }),
  },
  responses: {
    200: {
      description: "Every record stored.",
      headers: counted,
      content: json(ref("schemas", "BackfillResponse"), { message: "ok", device_id: EXAMPLE_DEVICE_ID, accepted: 1, data: REPORTED, timestamp: EXAMPLE_TIME }),
    },
    ...pick(refused, [400, 403, 404, 413, 415, 429, 503]),
  },
});

export const exportTelemetryDoc: OperationDoc = ({ refused }): OpenApiOperation => ({
  operationId: "exportTelemetry",
  summary: "Download a device's history as CSV",
  description:
    "RFC 4180 CSV with a header row, streamed. Raw: `time,key,value`, key by key in time order. With `bucket` (1m, 1h, 1d, 1w, ...): " +
    "`time,key,count,avg,min,max,sum`, days and weeks starting at midnight in `timeZone`. Times are ISO 8601 in `timeZone` (default: the user's, else UTC).",
  tags: ["app"],
  security: [{ accessToken: [] }] as Security,
  parameters: [
    { name: "deviceId", in: "query", required: true, description: "One of the caller's devices.", schema: { type: "string", format: "uuid" } },
    { name: "keys", in: "query", required: false, description: "Comma-separated keys; default: all.", schema: { type: "string" } },
    {
      name: "from",
      in: "query",
      required: false,
      description: "Start (inclusive), ISO 8601 with a zone or epoch ms; default: all.",
      schema: { type: "string" },
    },
    { name: "to", in: "query", required: false, description: "End (exclusive); default: now.", schema: { type: "string" } },
    { name: "bucket", in: "query", required: false, description: "Bucket width; default: raw points.", schema: { type: "string" } },
    { name: "timeZone", in: "query", required: false, description: "IANA time zone name.", schema: { type: "string" } },
  ],
  responses: {
    200: {
      description: "The CSV file.",
      content: { "text/csv": { schema: { type: "string" }, example: "time,key,value\r\n2026-12-03T10:00:00.000+01:00,temperature,21.5\r\n" } },
    },
    400: error("A malformed argument.", "bucket must be a width such as 30s, 1m, 15m, 1h, 1d or 1w"),
    401: error("No valid access token.", AUTH_FAILURES.missing.message),
    404: error("No such device among the caller's.", "Device not found"),
    ...pick(refused, [429, 503]),
  },
});
