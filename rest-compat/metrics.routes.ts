import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Metrics } from "../src/platform/metrics.js";
import type { Services } from "../src/platform/services.js";
import { metricsDoc } from "./openapi/service.docs.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
/** Headers a reverse proxy adds: behind one, a loopback socket says nothing about who is asking. */
const RELAYED = ["x-forwarded-for", "forwarded", "x-real-ip"];

/** Equal-length digests, so the comparison takes the same time whatever the guess and its length. */
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1];
}

/**
 * GET /metrics (Prometheus text format). With METRICS_TOKEN it needs `Authorization: Bearer
 * <METRICS_TOKEN>`; without, it answers only to a client on this machine that no proxy relayed, so a
 * default install shows nothing to the network. Never rate limited: a scraper polls on its own schedule.
 */
export function metricsRoutes(app: FastifyInstance, services: Services, metrics: Metrics): void {
  const token = services.config.metricsToken;
  app.get("/metrics", { config: { rateLimit: false, openapi: metricsDoc } }, async (request, reply) => {
    if (token) {
      const given = bearer(request);
      if (given === undefined || !sameToken(given, token)) {
        reply.header("www-authenticate", 'Bearer realm="metrics"');
        return reply.status(401).send({ detail: "Metrics need Authorization: Bearer <METRICS_TOKEN>" });
      }
    } else if (!LOOPBACK.has(request.ip) || RELAYED.some((name) => name in request.headers)) {
      return reply.status(403).send({ detail: "Metrics are served to this machine only; set METRICS_TOKEN to scrape them from elsewhere" });
    }
    const body = await metrics.render();
    return reply.header("content-type", metrics.contentType).header("cache-control", "no-store").send(body);
  });
}
