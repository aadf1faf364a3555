import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { Services } from "../src/platform/services.js";
import { AppError } from "../src/platform/errors.js";
import { resolveDevice } from "./device.routes.js";

/**
 * The contract's budget (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_SECONDS). Device requests count per
 * device, so devices behind one home router do not starve each other; everything else per client
 * address (X-Forwarded-For only through TRUST_PROXY hops). Exempt routes opt out by exact route
 * match (`config.rateLimit: false`), so path tricks reach a rate-limited 404 instead. With Redis the
 * counters are shared by every process; otherwise they live in an evicting in-memory LRU.
 */
export async function installRateLimit(app: FastifyInstance, services: Services, redis: Redis | undefined): Promise<void> {
  const keyOf = async (request: FastifyRequest): Promise<string> => {
    if (request.routeOptions.config.deviceRoute) {
      const device = await resolveDevice(services, request).catch(() => undefined);
      if (device) return `device:${device.id}`;
    }
    return `ip:${request.ip}`;
  };
  await app.register(rateLimit, {
    global: true,
    max: services.config.rateLimit.max,
    timeWindow: services.config.rateLimit.windowMs,
    // After body parsing: V2 and legacy reports carry the device token in the body.
    hook: "preHandler",
    cache: 50_000,
    enableDraftSpec: true,
    keyGenerator: keyOf,
    ...(redis ? { redis, nameSpace: `thingsnxt:${services.namespace}:rl:`, skipOnError: true } : {}),
    errorResponseBuilder: (_request, context) => {
      const error = new AppError("RATE_LIMITED", `Rate limit exceeded: ${context.max} requests per window; retry in ${context.after}`);
      return Object.assign(error, { statusCode: 429 });
    },
  });
}
