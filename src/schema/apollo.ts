import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import type { FastifyInstance } from "fastify";
import type { Services } from "../platform/services.js";
import type { GraphQLSchema } from "graphql";
import { httpContext, type GqlContext } from "./context.js";
import { serveIde } from "./ide.js";
import { installSubscriptions } from "./realtime.js";
import { installSse } from "./sse.js";
import { formatError } from "./errors.js";
import { aliasLimit, checkCost, depthLimit } from "./limits.js";

/** Refuses expensive operations after parsing, with the request's variables known. */
const costPlugin: ApolloServerPlugin<GqlContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ schema, document, request }) {
        checkCost(schema, document, request.variables ?? {}, request.operationName ?? undefined);
      },
    };
  },
};

/** The app's API at POST /graphql, on the same HTTP server and port as the REST compat layer. */
export async function installGraphQL(app: FastifyInstance, services: Services, schema: GraphQLSchema): Promise<ApolloServer<GqlContext>> {
  const production = services.config.nodeEnv === "production";
  const realtime = installSubscriptions(app, services, schema);
  installSse(app, services, schema);
  const apollo = new ApolloServer<GqlContext>({
    schema,
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production, // no "did you mean" in production
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    validationRules: [depthLimit, aliasLimit],
    formatError: formatError(services.log),
    // Cache-control hints are unused here and its plugin wraps every field resolver (a measured ~10% per query).
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), costPlugin],
  });
  await apollo.start();
  // Sockets first (they are not HTTP requests fastify would wait for), Apollo after the server closed.
  app.addHook("preClose", () => realtime.close());
  app.addHook("onClose", () => apollo.stop());
  const handler = fastifyApolloHandler(apollo, { context: (request) => httpContext(services, request) });
  app.route({
    url: "/graphql",
    method: ["GET", "POST", "OPTIONS"],
    // Not counted by the REST budget: GraphQL has its own per-operation budgets (login, register,
    // commands...) and depth/alias/cost limits, and logout must never be refused.
    config: { rateLimit: false },
    handler(request, reply) {
      // A browser opening /graphql gets the IDE; API clients (JSON) get GraphQL over GET/POST.
      if (request.method === "GET" && /text\/html/.test(request.headers.accept ?? "")) return serveIde(request, reply);
      return handler.call(this, request, reply);
    },
  });
  return apollo;
}
