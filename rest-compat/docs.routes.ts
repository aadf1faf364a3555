import type { FastifyInstance } from "fastify";
import type { Services } from "../src/services/context.js";

/** GET /docs (readable REST compat documentation) and GET /openapi.json. Never rate limited. */
export function docsRoutes(_app: FastifyInstance, _services: Services): void {}
