import type { FastifyInstance } from "fastify";
import type { Services } from "../src/platform/services.js";
import { VERSION } from "../src/platform/version.js";
import { healthDoc, indexDoc } from "./openapi/service.docs.js";

const HEALTH_TIMEOUT_MS = 1500;

async function databaseUp(services: Services): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)));
  const probe = services.pool.query("SELECT 1").then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/`, `/health`: never rate limited. */
export function serviceRoutes(app: FastifyInstance, services: Services): void {
  const startedAt = Date.now();
  const config = { rateLimit: false as const };

  app.get("/", { config: { ...config, openapi: indexDoc } }, async () => ({
    message: "ThingsNXT API",
    version: VERSION,
    docs: "/docs",
    health: "/health",
    graphql: "/graphql",
  }));

  app.get("/health", { config: { ...config, openapi: healthDoc } }, async (_request, reply) => {
    const up = await databaseUp(services);
    reply.status(up ? 200 : 503);
    return {
      status: up ? "healthy" : "degraded",
      timestamp: new Date().toISOString(),
      database: up ? "connected" : "disconnected",
      version: VERSION,
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    };
  });
}
