/** The backfill endpoint's schemas, as components of the OpenAPI document (document.ts). */
export const historySchemas = {
  BackfillRequest: {
    type: "object",
    properties: {
      device_token: { type: "string" },
      records: {
        type: "array",
        items: {
          type: "object",
          properties: {
            ts: { type: ["integer", "string"], description: "epoch milliseconds or ISO 8601 with a zone" },
            data: { $ref: "#/components/schemas/ReportData" },
          },
          required: ["ts", "data"],
        },
      },
    },
    required: ["records"],
  },
  BackfillResponse: {
    type: "object",
    properties: {
      message: { const: "ok" },
      device_id: { type: "string", format: "uuid" },
      accepted: { type: "integer" },
      data: { $ref: "#/components/schemas/State" },
      timestamp: { type: "string", format: "date-time" },
    },
    required: ["message", "device_id", "accepted", "data", "timestamp"],
  },
};
