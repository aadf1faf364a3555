import type { FastifyInstance } from "fastify";
import { MigrationExecutor } from "typeorm";
import type { Services } from "../src/platform/services.js";
import { VERSION } from "../src/platform/version.js";
import { consoleSite } from "../src/services/console/console-site.js";
import { healthDoc, indexDoc, liveDoc, readyDoc } from "./openapi/service.docs.js";

const HEALTH_TIMEOUT_MS = 1500;

/** True when `check` resolves to true within HEALTH_TIMEOUT_MS; a rejection or a hang is false. */
async function passes(check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)));
  const probe = check().then(
    (ok) => ok,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const databaseUp = (services: Services) => passes(() => services.pool.query("SELECT 1").then(() => true));

type Check = "ok" | "failed" | "not configured";

/** What a load balancer or orchestrator needs before it sends this process traffic. */
async function readiness(services: Services): Promise<Record<"database" | "migrations" | "redis", Check>> {
  const verdict = (ok: boolean): Check => (ok ? "ok" : "failed");
  const { redis } = services;
  const [database, migrations, redisUp] = await Promise.all([
    databaseUp(services),
    // Not DataSource.showMigrations(): it creates the migrations table when missing (a probe must not write)
    // and keeps its connection when a query fails; the executor's read-only listing releases it.
    passes(async () => (await new MigrationExecutor(services.dataSource).getPendingMigrations()).length === 0),
    redis ? passes(async () => (await redis.ping()) === "PONG") : Promise.resolve(undefined),
  ]);
  return { database: verdict(database), migrations: verdict(migrations), redis: redisUp === undefined ? "not configured" : verdict(redisUp) };
}

/** `/`, `/health`, `/health/live`, `/health/ready`: never rate limited. */
export function serviceRoutes(app: FastifyInstance, services: Services): void {
  const startedAt = Date.now();
  const config = { rateLimit: false as const };

  // A browser (Accept: text/html) gets the web console when it is built; every other client the JSON index.
  app.get("/", { config: { ...config, openapi: indexDoc } }, async (request, reply) => {
    if (/text\/html/.test(request.headers.accept ?? "") && consoleSite().ready) return consoleSite().page(reply);
    return {
      message: "ThingsNXT API",
      version: VERSION,
      docs: "/docs",
      health: "/health",
      graphql: "/graphql",
    };
  });

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

  app.get("/health/live", { config: { ...config, openapi: liveDoc } }, async () => ({ status: "alive" }));

  app.get("/health/ready", { config: { ...config, openapi: readyDoc } }, async (_request, reply) => {
    if (services.lifecycle.drainingSince !== undefined) {
      reply.status(503);
      return { status: "draining", since: new Date(services.lifecycle.drainingSince).toISOString() };
    }
    const checks = await readiness(services);
    const ready = Object.values(checks).every((check) => check !== "failed");
    reply.status(ready ? 200 : 503);
    return { status: ready ? "ready" : "not ready", checks };
  });
}
