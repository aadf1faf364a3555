import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Server as TlsServer } from "node:tls";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import { Registry } from "prom-client";
import type { DataSource } from "typeorm";
import { docsRoutes } from "../../rest-compat/docs.routes.js";
import { clientErrorHandler, frameworkErrors, installBodyTimeout, installErrorHandler, redactUrl } from "../../rest-compat/errors.js";
import { metricsRoutes } from "../../rest-compat/metrics.routes.js";
import { installRateLimit } from "../../rest-compat/rate-limit.js";
import { collectRouteDocs } from "../../rest-compat/openapi/document.js";
import { serviceRoutes } from "../../rest-compat/service.routes.js";
import type { Config } from "../platform/config.js";
import { createDataSource } from "../platform/db/data-source.js";
import { runMigrationsLocked } from "../platform/db/migrate.js";
import { startEmbedded, type EmbeddedDatabase } from "../platform/db/embedded.js";
import { assertPortFree, listenError } from "../platform/listen-check.js";
import { Metrics } from "../platform/metrics.js";
import { readTlsPair, reloadTlsPair, warnIfExpiring, type TlsPair } from "../platform/tls.js";
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
  /**
   * Rereads TLS_CERT_FILE/TLS_KEY_FILE for new connections (main.ts calls it on SIGHUP). False when
   * TLS is off or the new files are bad (logged; the old certificate stays).
   */
  reloadTls(): boolean;
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

/** A client's X-Request-Id is kept only when it is a short token: it goes into every log line. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID_RE.test(given) ? given : randomUUID();
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Fastify's JSON parser decodes the body leniently: invalid UTF-8 silently becomes U+FFFD and is stored
 * as if the device had sent it. This one decodes strictly and refuses such a body with 400, then hands
 * the text to Fastify's own parser (prototype-poisoning checks included).
 */
function installStrictJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(Object.assign(new Error("Request body is not valid UTF-8"), { statusCode: 400 }), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}

export async function buildApp(services: Services, tls?: TlsPair): Promise<FastifyInstance> {
  const { config } = services;
  // With TLS the raw server is an https.Server: HTTPS and WSS on PORT, the same routes and upgrades.
  const https = tls ? { https: { cert: tls.cert, key: tls.key } } : {};
  const app = Fastify({
    ...https,
    // Fastify would take any header value as it is; genReqId vets it first (logged as reqId).
    requestIdHeader: false,
    genReqId: requestId,
    loggerInstance: services.log as FastifyBaseLogger,
    // Fastify's own request lines would carry ?device_token=...; the debug-level line below redacts it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    // A body that never arrives is cut (408) instead of holding a socket forever; a long poll's wait
    // comes after its request has arrived, so it is not affected.
    requestTimeout: config.limits.requestTimeoutMs, // Node's own bound (checked every 30 s); installBodyTimeout is exact
    frameworkErrors,
    // What Node's parser refuses (431, 400, 408) is answered as {"detail"} like everything else.
    clientErrorHandler,
    // Trust X-Forwarded-For for exactly TRUST_PROXY hops (0: the socket address is the client).
    trustProxy: (_address: string, hop: number) => hop < config.trustProxyHops,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 1000 },
  });
  // First hook: every answer carries it, rate-limit refusals and 404s included.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  // Only JSON bodies: anything else is a 415, as the contract says.
  app.removeContentTypeParser("text/plain");
  installStrictJsonParser(app);
  const metrics = new Metrics(new Registry(), {
    bus: services.bus,
    pool: services.pool,
    longPollsHeld: () => services.longPoll.waiting,
    mqttSessions: () => services.mqtt?.connected ?? 0,
  });
  metrics.countSockets(app.server, "/graphql");
  app.addHook("onClose", () => metrics.close());
  app.addHook("onResponse", (request, reply, done) => {
    metrics.observe(request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime / 1000);
    if (services.log.isLevelEnabled("debug")) {
      request.log.debug({ method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
    }
    done();
  });
  collectRouteDocs(app);
  installBodyTimeout(app, config.limits.requestTimeoutMs); // before any route: /openapi.json is built from what they declare
  installErrorHandler(app);
  await installRateLimit(app, services, services.redis);
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, (request, reply) => {
    reply.status(404).send({ detail: `Not found: ${request.method} ${redactUrl(request.url).split("?")[0]}` });
  });
  serviceRoutes(app, services);
  metricsRoutes(app, services, metrics);
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
  const tls = config.tls ? readTlsPair(config.tls) : undefined; // an unreadable file stops the start naming its setting
  // Before the slow part: a taken port fails in a second, naming its setting.
  await assertPortFree("PORT", config.host, config.port);
  if (config.mqtt.port !== null) await assertPortFree("MQTT_PORT", config.mqtt.host, config.mqtt.port);
  if (config.mqtt.tlsPort !== null) await assertPortFree("MQTTS_PORT", config.mqtt.host, config.mqtt.tlsPort);
  try {
    let url = config.databaseUrl;
    if (!url) {
      embedded = await startEmbedded(config.dataDir, config.embeddedPgPort, log);
      url = embedded.url;
    }
    dataSource = createDataSource(url, config.dbPoolSize, { entities, migrations });
    await dataSource.initialize();
    const applied = await runMigrationsLocked(dataSource);
    if (applied.length > 0) log.info({ migrations: applied }, "migrations applied");
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
      redis.on("error", (error) => log.warn({ err: error.message }, "redis"));
      await redis.connect();
    }
    const namespace = new URL(url).pathname.slice(1) || "thingsnxt";
    const services = await createServices(config, dataSource, log, { databaseUrl: url, redis, namespace });
    const app = await buildApp(services, tls);
    // A fleet reconnecting at once (after a restart, a power cut) arrives faster than it is accepted:
    // Node's default queue of 511 overflowed and devices saw resets and SYN retries; the kernel caps it at somaxconn.
    await app.listen({ port: config.port, host: config.host, backlog: config.capacity.listenBacklog }).catch((error: NodeJS.ErrnoException) => {
      throw listenError("PORT", config.host, config.port, error); // taken since the check
    });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    log.info({ port, tls: tls ? { fingerprint256: tls.fingerprint256, validTo: tls.validTo.toISOString() } : false }, "ThingsNXT listening");
    if (tls) warnIfExpiring(tls, log);
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      url: `${tls ? "https" : "http"}://${host}:${port}`,
      reloadTls: () => {
        const https = config.tls ? reloadTlsPair(app.server as unknown as TlsServer, config.tls, log) !== undefined : false;
        const mqtts = services.mqtt?.reloadTls() ?? false; // MQTTS_PORT shares the pair
        return https || mqtts;
      },
      close: () =>
        (closing ??= (async () => {
          // Draining: readiness fails at once (a load balancer stops sending), held long polls are
          // answered with the current state, and SHUTDOWN_GRACE_SECONDS later new connections are
          // refused. In-flight requests then get 3 s to finish their commits; then every connection goes.
          services.lifecycle.drainingSince = Date.now();
          services.longPoll.drain();
          if (config.shutdownGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownGraceMs));
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
