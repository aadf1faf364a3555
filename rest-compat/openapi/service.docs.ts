import { VERSION } from "../../src/platform/version.js";
import { EXAMPLE_TIME, json, ref, type OpenApiOperation, type OperationDoc } from "./document.js";

/** Index, health and documentation (rest-compat/service.routes.ts, docs.routes.ts). */

export const healthDoc: OperationDoc = (): OpenApiOperation => ({
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
});

export const indexDoc: OperationDoc = (): OpenApiOperation => ({
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
});

export const docsDoc: OperationDoc = (): OpenApiOperation => ({
      operationId: "docs",
      summary: "This documentation, as HTML",
      description: "Never rate limited. The same document as JSON is at `/openapi.json`.",
      tags: ["service"],
      responses: { 200: { description: "A readable HTML page.", content: { "text/html": { schema: { type: "string" } } } } },
});
