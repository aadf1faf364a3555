import type { FastifyInstance } from "fastify";
import { authenticate, bearerOf } from "../src/platform/user-token.js";
import type { Services } from "../src/platform/services.js";
import { logoutDoc } from "./openapi/app.docs.js";

/** App endpoints kept for existing clients (contract: "App-side endpoints kept for existing clients"). */
export function appRoutes(app: FastifyInstance, services: Services): void {
  // Idempotent and never rate limited: a client must always be able to log out.
  app.post("/logout", { config: { rateLimit: false, openapi: logoutDoc } }, async (request) => {
    const auth = await authenticate(services.sessions, bearerOf(request.headers.authorization));
    // A revoked token still names its session: logging out again answers already_logged_out.
    const claims = auth.ok || auth.reason === "revoked" ? auth.claims : undefined;
    const result = await services.auth.logout(claims);
    return { message: result.message, tokens_deleted: result.tokensDeleted, already_logged_out: result.alreadyLoggedOut };
  });
}
