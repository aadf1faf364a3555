import type { FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import { createHandler } from "graphql-sse/lib/use/fastify";
import type { Services } from "../platform/services.js";
import { AUTH_FAILURES, authenticate, bearerOf, endOnExpiryOrRevoke } from "../platform/user-token.js";
import { contextFor, type GqlContext } from "./context.js";
import { formatError } from "./errors.js";

const unauthorized = (message: string) =>
  [JSON.stringify({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] }), { status: 401, statusText: "Unauthorized", headers: { "content-type": "application/json" } }] as [string, { status: number; statusText: string; headers: Record<string, string> }];

/**
 * The same subscriptions over Server-Sent Events (graphql-sse, "distinct connections" mode) at
 * /graphql/stream, for clients that cannot hold a WebSocket. Authenticated by the Bearer header;
 * a stream ends when that token expires or is revoked, as a WebSocket is closed.
 */
export function installSse(app: FastifyInstance, services: Services, schema: GraphQLSchema): void {
  const format = formatError(services.log);
  const handler = createHandler<GqlContext & Record<PropertyKey, unknown>>({
    schema,
    authenticate: async (req) => {
      const auth = await authenticate(services.sessions, bearerOf(req.headers.get("authorization")));
      if (!auth.ok) return unauthorized(AUTH_FAILURES[auth.reason].message);
      return auth.claims.jti;
    },
    context: async (req) => {
      const token = bearerOf(req.headers.get("authorization"));
      return (await contextFor(services, token, req.raw.ip)) as GqlContext & Record<PropertyKey, unknown>;
    },
    onNext: (_ctx, _req, result) => (result.errors ? ({ ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } as never) : result),
  });
  app.route({
    url: "/graphql/stream",
    method: ["GET", "POST", "PUT", "DELETE"],
    config: { rateLimit: false }, // a stream is one long request; GraphQL limits apply inside
    handler: async (request, reply) => {
      // A stream ends when its token expires or is revoked: a last error result, then complete.
      const auth = await authenticate(services.sessions, bearerOf(request.headers.authorization));
      if (auth.ok) {
        const stop = endOnExpiryOrRevoke(services.bus, services.sessions, auth, (reason) => {
          const res = reply.raw;
          if (res.writableEnded || !res.headersSent) return;
          const error = { errors: [{ message: AUTH_FAILURES[reason].message, extensions: { code: "UNAUTHENTICATED" } }] };
          res.end(`event: next\ndata: ${JSON.stringify(error)}\n\nevent: complete\ndata: \n\n`);
          request.raw.destroy();
        });
        reply.raw.once("close", stop);
      }
      return handler(request, reply);
    },
  });
}
