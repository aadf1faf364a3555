import type { FastifyInstance } from "fastify";
import { bearerOf } from "../src/schema/context.js";
import type { Services } from "../src/app/services.js";

/** App endpoints kept for existing clients (contract: "App-side endpoints kept for existing clients"). */
export function appRoutes(app: FastifyInstance, services: Services): void {
  // Idempotent and never rate limited: a client must always be able to log out.
  app.post("/logout", { config: { rateLimit: false } }, async (request) => {
    const token = bearerOf(request.headers.authorization);
    const verified = token ? await services.sessions.verify(token) : undefined;
    const claims = verified?.ok ? verified.claims : verified?.reason === "revoked" ? verified.claims : undefined;
    const result = await services.auth.logout(claims);
    return { message: result.message, tokens_deleted: result.tokensDeleted, already_logged_out: result.alreadyLoggedOut };
  });
}
