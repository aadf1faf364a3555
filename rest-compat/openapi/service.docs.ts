import { VERSION } from "../../src/platform/version.js";
import { error, EXAMPLE_TIME, json, ref, type OpenApiOperation, type OperationDoc } from "./document.js";

/** Index, health, probes, metrics and documentation (rest-compat/service.routes.ts, metrics.routes.ts, docs.routes.ts). */

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
      content: json(ref("schemas", "Health"), {
        status: "degraded",
        timestamp: EXAMPLE_TIME,
        database: "disconnected",
        version: VERSION,
        uptime_seconds: 3600,
      }),
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

export const liveDoc: OperationDoc = (): OpenApiOperation => ({
  operationId: "healthLive",
  summary: "Liveness probe",
  description: "Never rate limited. Answers whenever the process serves HTTP; it checks nothing else, so a restart is never triggered by a database outage.",
  tags: ["service"],
  responses: {
    200: {
      description: "The process serves HTTP.",
      content: json({ type: "object", properties: { status: { const: "alive" } }, required: ["status"] }, { status: "alive" }),
    },
  },
});

const check = (values: string[]) => ({ enum: values });
const readiness = {
  type: "object",
  properties: {
    status: { enum: ["ready", "not ready"] },
    checks: {
      type: "object",
      properties: { database: check(["ok", "failed"]), migrations: check(["ok", "failed"]), redis: check(["ok", "failed", "not configured"]) },
      required: ["database", "migrations", "redis"],
    },
  },
  required: ["status", "checks"],
};

export const readyDoc: OperationDoc = (): OpenApiOperation => ({
  operationId: "healthReady",
  summary: "Readiness probe",
  description:
    "Never rate limited. Ready when the database answers `SELECT 1`, no migration is pending, and Redis (when REDIS_URL is set) answers PING, each within 1.5 s. " +
    "A load balancer sends traffic only to ready processes.",
  tags: ["service"],
  responses: {
    200: {
      description: "Every check passed.",
      content: json(readiness, { status: "ready", checks: { database: "ok", migrations: "ok", redis: "not configured" } }),
    },
    503: {
      description: "At least one check failed; the failing ones say `failed`.",
      content: json(readiness, { status: "not ready", checks: { database: "ok", migrations: "ok", redis: "failed" } }),
    },
  },
});

export const metricsDoc: OperationDoc = (): OpenApiOperation => ({
  operationId: "metrics",
  summary: "Prometheus metrics",
  description:
    "Never rate limited. With `METRICS_TOKEN` set, needs `Authorization: Bearer <METRICS_TOKEN>`; without it, answers only to clients on the server's own machine " +
    "(127.0.0.1 or ::1, not relayed by a proxy). HTTP requests by route, device reports, devices online, held long polls, GraphQL WebSockets, job queue, process and event-loop metrics.",
  tags: ["service"],
  responses: {
    200: {
      description: "The metrics in the Prometheus text format 0.0.4.",
      content: {
        "text/plain": {
          schema: { type: "string" },
          example:
            "# HELP thingsnxt_devices_online Devices online now (all processes: read from the database).\n# TYPE thingsnxt_devices_online gauge\nthingsnxt_devices_online 42\n",
        },
      },
    },
    401: error("METRICS_TOKEN is set and the request does not carry it as a bearer token.", "Metrics need Authorization: Bearer <METRICS_TOKEN>"),
    403: error(
      "METRICS_TOKEN is not set and the client is not on the server's machine.",
      "Metrics are served to this machine only; set METRICS_TOKEN to scrape them from elsewhere",
    ),
  },
});
