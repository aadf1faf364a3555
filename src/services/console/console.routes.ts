import type { FastifyInstance } from "fastify";
import type { Services } from "../../platform/services.js";
import { ASSET_PREFIX, CONSOLE_PREFIX, consoleSite } from "./console-site.js";

/** Client-side routes of the console that a browser may load directly (a bookmark, the reset mail's link). */
const isPagePath = (path: string) => path === "/reset-password" || path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);

/**
 * The console's page and assets. They are a web page, not part of the REST API, so they are answered
 * in an onRequest hook rather than declared as routes: /openapi.json lists the API only. Never rate
 * limited; an unknown asset name goes on to the 404 handler (and is counted there). `/` itself is
 * the JSON index's route (rest-compat/service.routes.ts), which hands browsers to the console.
 */
export function consoleRoutes(app: FastifyInstance, services: Services): void {
  const site = consoleSite();
  if (!site.ready) {
    services.log.warn("console: not built (console/dist is missing; `npm run console:build` builds it): / serves the JSON index only");
    return;
  }
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "GET") return undefined;
    const path = request.url.split("?")[0]!;
    if (path.startsWith(ASSET_PREFIX)) return (await site.asset(path.slice(ASSET_PREFIX.length), request, reply)) ? reply : undefined;
    if (isPagePath(path)) return site.page(reply);
    return undefined;
  });
}
