import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Services } from "../platform/services.js";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { httpContext, type GqlContext } from "./context.js";
import { serveIde } from "./ide.js";
import { installSubscriptions } from "./realtime.js";
import { installSse } from "./sse.js";
import { formatError, graphqlErrorHandler } from "./errors.js";
import { checkDocumentText, checkInputs } from "./input-guard.js";
import { aliasLimit, checkCost, depthLimit } from "./limits.js";
import { SubscriptionCaps } from "./subscription-caps.js";

/** Refuses bad inputs and expensive operations after parsing, with the request's variables known. */
const inputAndCostPlugin: ApolloServerPlugin<GqlContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ schema, document, request }) {
        checkInputs(document, request.variables);
        checkCost(schema, document, request.variables ?? {}, request.operationName ?? undefined);
      },
    };
  },
};

/** The query of a GraphQL request over GET or POST, if it has one. */
function queryOf(request: FastifyRequest): unknown {
  const carrier = request.method === "GET" ? request.query : request.body;
  return typeof carrier === "object" && carrier !== null ? (carrier as { query?: unknown }).query : undefined;
}

/** The app's API at POST /graphql, on the same HTTP server and port as the REST compat layer. */
export async function installGraphQL(app: FastifyInstance, services: Services, schema: GraphQLSchema): Promise<ApolloServer<GqlContext>> {
  const production = services.config.nodeEnv === "production";
  const caps = new SubscriptionCaps({ perSocket: services.config.limits.subscriptionsPerSocket, perUser: services.config.limits.subscriptionsPerUser });
  const realtime = installSubscriptions(app, services, schema, caps);
  installSse(app, services, schema, caps);
  const format = formatError(services.log);
  const apollo = new ApolloServer<GqlContext>({
    schema,
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production, // no "did you mean" in production
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    validationRules: [depthLimit, aliasLimit],
    formatError: format,
    // Cache-control hints are unused here and its plugin wraps every field resolver (a measured ~10% per query).
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), inputAndCostPlugin],
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
    errorHandler: graphqlErrorHandler,
    handler(request, reply) {
      // A browser opening /graphql gets the IDE; API clients (JSON) get GraphQL over GET/POST.
      if (request.method === "GET" && /text\/html/.test(request.headers.accept ?? "")) return serveIde(request, reply);
      // Before Apollo, which can refuse only after parsing (its early hooks' errors become a 500),
      // and before the context, which costs a token check.
      const query = queryOf(request);
      if (typeof query === "string") {
        try {
          checkDocumentText(query);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return reply.status(400).send({ errors: [format(error.toJSON(), error)] });
        }
      }
      return handler.call(this, request, reply);
    },
  });
  return apollo;
}
