import type { FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import { createHandler } from "graphql-sse/lib/use/fastify";
import type { Services } from "../app/services.js";
import { contextFor, type GqlContext } from "./context.js";
import { formatError } from "./errors.js";

const unauthorized = (message: string) =>
  [JSON.stringify({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] }), { status: 401, statusText: "Unauthorized", headers: { "content-type": "application/json" } }] as [string, { status: number; statusText: string; headers: Record<string, string> }];

/**
 * The same subscriptions over Server-Sent Events (graphql-sse, "distinct connections" mode) at
 * /graphql/stream, for clients that cannot hold a WebSocket. Authenticated by the Bearer header.
 */
export function installSse(app: FastifyInstance, services: Services, schema: GraphQLSchema): void {
  const format = formatError(services.log);
  const handler = createHandler<GqlContext & Record<PropertyKey, unknown>>({
    schema,
    authenticate: async (req) => {
      const header = req.headers.get("authorization") ?? "";
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (!token) return unauthorized("Sign in: send Authorization: Bearer <access token>");
      const result = await services.sessions.verify(token);
      if (!result.ok) return unauthorized(result.reason === "expired" ? "Access token expired: refresh it" : "Access token is invalid or revoked");
      return result.claims.jti;
    },
    context: async (req) => {
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
      return (await contextFor(services, token, req.raw.ip)) as GqlContext & Record<PropertyKey, unknown>;
    },
    onNext: (_ctx, _req, result) => (result.errors ? ({ ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } as never) : result),
  });
  app.route({
    url: "/graphql/stream",
    method: ["GET", "POST", "PUT", "DELETE"],
    config: { rateLimit: false }, // a stream is one long request; GraphQL limits apply inside
    handler: (request, reply) => handler(request, reply),
  });
}
