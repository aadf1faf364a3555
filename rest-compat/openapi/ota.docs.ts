import { error, EXAMPLE_TIME, EXAMPLE_TOKEN, json, pick, type OpenApiOperation, type OperationDoc, type Security } from "./document.js";

/** Firmware images and their download by devices (rest-compat/ota.routes.ts, docs/ota.md). */

const SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const MD5 = "098f6bcd4621d373cade4e832627b4f6";

const firmwareSchema = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    title: { type: "string" },
    version: { type: "string" },
    size: { type: "integer", minimum: 1, description: "bytes" },
    sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
    md5: { type: "string", pattern: "^[0-9a-f]{32}$" },
    createdAt: { type: "string", format: "date-time" },
  },
  required: ["id", "title", "version", "size", "sha256", "md5", "createdAt"],
};

export const uploadFirmwareDoc: OperationDoc = ({ config, refused, counted }): OpenApiOperation => ({
  operationId: "uploadFirmware",
  summary: "Upload a firmware image",
  description:
    "The body is the image itself as `application/octet-stream`, streamed to storage every server process reads. " +
    "It must be an ESP32 application image (first byte 0xE9); when its app descriptor (magic 0xABCD5432 at offset 32) is present, " +
    "its version (offset 48) must equal `version`. The image is stored completely or not at all. " +
    `At most ${config.ota.maxFirmwareBytes} bytes (MAX_FIRMWARE_BYTES). Offer it to devices with the GraphQL mutation \`createRelease\`.`,
  tags: ["ota"],
  security: [{ accessToken: [] }] as Security,
  parameters: [
    { name: "title", in: "query", required: true, description: "A name for the image (1-100 characters).", schema: { type: "string" }, example: "greenhouse" },
    {
      name: "version",
      in: "query",
      required: true,
      description: "Its version (1-31 characters); title and version together are unique per user.",
      schema: { type: "string" },
      example: "1.2.0",
    },
  ],
  responses: {
    201: {
      description: "Stored; the digests are hex.",
      headers: counted,
      content: json(firmwareSchema, {
        id: "2b1c7f3e-9a4d-4e5f-8a6b-0c1d2e3f4a5b",
        title: "greenhouse",
        version: "1.2.0",
        size: 1234567,
        sha256: SHA256,
        md5: MD5,
        createdAt: EXAMPLE_TIME,
      }),
    },
    400: error(
      "Not an ESP32 application image, its descriptor names another version, or title or version is missing.",
      "Not an ESP32 application image: the first byte must be 0xE9",
    ),
    401: error("No valid access token.", "Sign in: this operation needs an access token"),
    409: error("This user has an image of this title and version already.", 'Firmware "greenhouse" version "1.2.0" exists already'),
    413: error(
      `The image is larger than ${config.ota.maxFirmwareBytes} bytes; refused before it is stored.`,
      `The image is larger than ${config.ota.maxFirmwareBytes} bytes (MAX_FIRMWARE_BYTES)`,
    ),
    415: error("The body is not `application/octet-stream`.", "Content-Type must be application/octet-stream"),
    ...pick(refused, [429, 503]),
  },
});

export const firmwareUpdateDoc: OperationDoc = ({ refused }): OpenApiOperation => ({
  operationId: "firmwareUpdate",
  summary: "Download the offered firmware (HTTPUpdate compatible)",
  description:
    "What Arduino-ESP32's `HTTPUpdate` calls: the image this device is offered now, or 304 when there is none or the device runs it already. " +
    'The offer also reaches the device in its state, under the key `ota`: `{"version", "size", "sha256", "md5", "url", "release"}`. ' +
    "A weak link resumes with `Range: bytes=N-`. The device reports its progress as telemetry: `fw_state` " +
    "(DOWNLOADING, DOWNLOADED, UPDATING, FAILED with `fw_error`) and `fw_version` on every boot.",
  tags: ["ota"],
  security: [{ deviceTokenHeader: [] }, { deviceBearer: [] }, { deviceTokenQuery: [] }] as Security,
  parameters: [
    { name: "x-ESP32-version", in: "header", required: false, description: "The version the device runs.", schema: { type: "string" }, example: "1.1.0" },
    {
      name: "version",
      in: "query",
      required: false,
      description: "The same, for clients that cannot set headers.",
      schema: { type: "string" },
      example: "1.1.0",
    },
    {
      name: "device_token",
      in: "query",
      required: false,
      description: "The device's token (or a header).",
      schema: { type: "string" },
      example: EXAMPLE_TOKEN,
    },
    {
      name: "Range",
      in: "header",
      required: false,
      description: "`bytes=N-` or `bytes=N-M`: the rest of an interrupted download.",
      schema: { type: "string" },
      example: "bytes=65536-",
    },
  ],
  responses: {
    200: {
      description: "The image, streamed. `x-MD5` is what HTTPUpdate checks; `ETag` is the quoted SHA-256. Marks the device DOWNLOADING.",
      headers: {
        "x-MD5": { description: "MD5 of the image, hex.", schema: { type: "string" } },
        "x-sha256": { description: "SHA-256 of the image, hex.", schema: { type: "string" } },
        ETag: { description: "The quoted SHA-256.", schema: { type: "string" } },
        "Accept-Ranges": { description: "`bytes`.", schema: { type: "string" } },
      },
      content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
    },
    206: {
      description: "The requested part of the image, with `Content-Range: bytes N-M/TOTAL` and the headers of the 200.",
      headers: { "Content-Range": { description: "`bytes N-M/TOTAL`.", schema: { type: "string" } } },
      content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
    },
    304: { description: "Nothing is offered to this device, or it runs the offered version already. No body." },
    403: refused[403]!,
    416: error("The range starts past the end of the image (`Content-Range: bytes */TOTAL`).", "Range not satisfiable"),
    ...pick(refused, [429, 503]),
  },
});
