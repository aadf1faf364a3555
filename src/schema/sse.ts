import type { FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import { createHandler } from "graphql-sse/lib/use/fastify";
import type { Services } from "../platform/services.js";
import { AUTH_FAILURES, authenticate, bearerOf, endOnExpiryOrRevoke } from "../platform/user-token.js";
import { contextFor, type GqlContext } from "./context.js";
import { formatError, graphqlErrorHandler } from "./errors.js";
import { prepareOperation } from "./limits.js";
import type { SubscriptionCaps } from "./subscription-caps.js";

const unauthorized = (message: string) =>
  [
    JSON.stringify({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] }),
    { status: 401, statusText: "Unauthorized", headers: { "content-type": "application/json" } },
  ] as [string, { status: number; statusText: string; headers: Record<string, string> }];

/**
 * The same subscriptions over Server-Sent Events (graphql-sse, "distinct connections" mode) at
 * /graphql/stream, for clients that cannot hold a WebSocket. Authenticated by the Bearer header;
 * a stream ends when that token expires or is revoked, as a WebSocket is closed.
 */
export function installSse(app: FastifyInstance, services: Services, schema: GraphQLSchema, caps: SubscriptionCaps): void {
  const format = formatError(services.log);
  const production = services.config.nodeEnv === "production";
  // A slot of the per-user cap, given back when its operation completes (graphql-sse passes the context).
  const slots = new WeakMap<object, () => void>();
  const handler = createHandler<GqlContext & Record<PropertyKey, unknown>>({
    schema,
    authenticate: async (req) => {
      const auth = await authenticate(services.sessions, bearerOf(req.headers.get("authorization")));
      if (!auth.ok) return unauthorized(AUTH_FAILURES[auth.reason].message);
      return auth.claims.jti;
    },
    // The same checks as over HTTP and graphql-ws. A refusal is a result on the stream (graphql-sse
    // needs `data` present to take it for one), as graphql-sse itself sends validation errors.
    onSubscribe: async (req, params) => {
      const prepared = prepareOperation(schema, params, production);
      if (Array.isArray(prepared)) return { data: undefined, errors: prepared };
      const contextValue = (await contextFor(services, bearerOf(req.headers.get("authorization")), req.raw.ip)) as GqlContext & Record<PropertyKey, unknown>;
      if (prepared.operation.operation === "subscription" && contextValue.user) {
        const release = caps.take(contextValue.user.userId);
        if (typeof release !== "function") return { data: undefined, errors: [release] };
        slots.set(contextValue, release);
        // A distinct stream is this request: its end frees the slot even if graphql-sse never completes.
        if (req.headers.get("accept") === "text/event-stream") req.context.reply.raw.once("close", release);
      }
      const { document, variableValues, operationName } = prepared;
      return { schema, document, variableValues, operationName, contextValue };
    },
    // prepareOperation validated with these rules and more; graphql-sse would validate a second time.
    validate: () => [],
    onNext: (_ctx, _req, result) => (result.errors ? ({ ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } as never) : result),
    onComplete: (ctx) => {
      if (typeof ctx === "object" && ctx !== null) slots.get(ctx)?.();
    },
  });
  app.route({
    url: "/graphql/stream",
    method: ["GET", "POST", "PUT", "DELETE"],
    config: { rateLimit: false }, // a stream is one long request; GraphQL limits apply inside
    errorHandler: graphqlErrorHandler,
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
