import type { FastifyInstance } from "fastify";
import { authenticate, bearerOf, claimsOf } from "../src/platform/user-token.js";
import type { Services } from "../src/platform/services.js";
import { widgetStateDoc } from "./openapi/app.docs.js";

/** POST /widgets/{id}/state (the app's old LED switch), over the same service as setWidgetState. */
export function widgetRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Params: { widget_id: string } }>("/widgets/:widget_id/state", { config: { openapi: widgetStateDoc } }, async (request) => {
    // The GraphQL API's token check, so both answer a bad token with the same 401 and reason.
    const owner = claimsOf(await authenticate(services.sessions, bearerOf(request.headers.authorization))).userId;
    const body = request.body;
    // A body that is not an object has no state: the service refuses it after checking ownership,
    // so a foreign widget is a 404 whatever the body.
    const state = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).state : undefined;
    const command = await services.widgets.setState(owner, request.params.widget_id, state);
    return { message: "ok", state: command.value, virtual_pin: command.widget.virtualPin, timestamp: new Date(command.at).toISOString() };
  });
}
