import type { FastifyInstance } from "fastify";
import type { Services } from "../src/services/context.js";

/** POST /widgets/{id}/state (the app's old LED switch). */
export function widgetRoutes(_app: FastifyInstance, _services: Services): void {}
