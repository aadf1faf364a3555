import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import type { DataSource } from "typeorm";
import { docsRoutes } from "../../rest-compat/docs.routes.js";
import { installErrorHandler, redactUrl } from "../../rest-compat/errors.js";
import { installRateLimit } from "../../rest-compat/rate-limit.js";
import { collectRouteDocs } from "../../rest-compat/openapi/document.js";
import { serviceRoutes } from "../../rest-compat/service.routes.js";
import type { Config } from "../platform/config.js";
import { createDataSource } from "../platform/db/data-source.js";
import { startEmbedded, type EmbeddedDatabase } from "../platform/db/embedded.js";
import { installGraphQL } from "../schema/apollo.js";
import { ideRoutes } from "../schema/ide.js";
import { entities, migrations, routes } from "./modules.js";
import { appSchema } from "./schema.js";
import { createServices, type Services } from "./services.js";

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  /** Base URL, e.g. http://127.0.0.1:8000 */
  readonly url: string;
  close(): Promise<void>;
}

export function createLogger(config: Config, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: config.logLevel,
      // Belt and braces: tokens never reach a log line even if a header or body is logged by mistake.
      redact: {
        paths: ["req.headers.authorization", 'req.headers["x-device-token"]', "device_token", "*.device_token", "token", "*.token"],
        censor: "[redacted]",
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    // Fastify's own request lines would carry ?device_token=...; the debug-level line below redacts it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    // Trust X-Forwarded-For for exactly TRUST_PROXY hops (0: the socket address is the client).
    trustProxy: (_address: string, hop: number) => hop < config.trustProxyHops,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 1000 },
  });
  // Only JSON bodies: anything else is a 415, as the contract says.
  app.removeContentTypeParser("text/plain");
  app.addHook("onResponse", (request, reply, done) => {
    if (services.log.isLevelEnabled("debug")) {
      request.log.debug(
        { method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        "request",
      );
    }
    done();
  });
  collectRouteDocs(app); // before any route: /openapi.json is built from what they declare
  installErrorHandler(app);
  await installRateLimit(app, services, services.redis);
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, (request, reply) => {
    reply.status(404).send({ detail: `Not found: ${request.method} ${redactUrl(request.url).split("?")[0]}` });
  });
  serviceRoutes(app, services);
  for (const route of routes) route(app, services);
  docsRoutes(app, services);
  ideRoutes(app);
  await installGraphQL(app, services, await appSchema());
  return app;
}

/**
 * Starts everything one server process needs: the database (DATABASE_URL, or embedded PostgreSQL in
 * DATA_DIR), migrations, services and the HTTP server.
 */
export async function startServer(config: Config, log: Logger = createLogger(config)): Promise<RunningServer> {
  let embedded: EmbeddedDatabase | undefined;
  let dataSource: DataSource | undefined;
  let redis: Redis | undefined;
  try {
    let url = config.databaseUrl;
    if (!url) {
      embedded = await startEmbedded(config.dataDir, config.embeddedPgPort, log);
      url = embedded.url;
    }
    dataSource = createDataSource(url, config.dbPoolSize, { entities, migrations });
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: "each" });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "migrations applied");
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
      redis.on("error", (error) => log.warn({ err: error.message }, "redis"));
      await redis.connect();
    }
    const namespace = new URL(url).pathname.slice(1) || "thingsnxt";
    const services = await createServices(config, dataSource, log, { databaseUrl: url, redis, namespace });
    const app = await buildApp(services);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    log.info({ port }, "ThingsNXT listening");
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      url: `http://${host}:${port}`,
      close: () =>
        (closing ??= (async () => {
          // In-flight requests get a grace period to finish their commits; then every connection goes.
          const force = setTimeout(() => app.server.closeAllConnections(), 3000);
          await app.close();
          clearTimeout(force);
          await services.stop();
          await dataSource!.destroy();
          redis?.disconnect();
          await embedded?.stop();
        })()),
    };
  } catch (error) {
    await dataSource?.destroy().catch(() => undefined);
    redis?.disconnect();
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}
