import { capacityConfig, type CapacityConfig } from "./config/capacity.js";
import { historyConfig, type HistoryConfig } from "./config/history.js";
import { otaConfig, type OtaConfig } from "./config/ota.js";
import { allowList, ConfigError, int, isSet, oneOf, portOrOff, secret, token, url, type Env } from "./config/env.js";

export { ConfigError } from "./config/env.js";

/**
 * The one place the environment is read. Every variable is validated at start; a bad value stops the
 * process with a message naming the variable. `.env.example` lists them all with their defaults.
 */
export interface Config {
  readonly nodeEnv: "development" | "production" | "test";
  readonly port: number;
  readonly host: string;
  /** External PostgreSQL; when absent an embedded PostgreSQL is started in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Port of the embedded PostgreSQL; 0 picks a free one at each start. */
  readonly embeddedPgPort: number;
  readonly dbPoolSize: number;
  readonly redisUrl: string | undefined;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** Multiplies every per-operation GraphQL budget (login, register, ...); 1 in production. */
  readonly graphqlRateLimitFactor: number;
  /** Number of proxy hops whose X-Forwarded-For is trusted; 0 trusts none. */
  readonly trustProxyHops: number;
  readonly offlineTimeoutMs: number;
  /** Unset: half of OFFLINE_TIMEOUT, at most 5 s. */
  readonly lastSeenFlushMs: number;
  /** A device's online/offline notification is not repeated within this time (flapping). */
  readonly statusAlertCooldownMs: number;
  /** How often the job worker looks for jobs that became due (new jobs wake it at once). */
  readonly jobPollMs: number;
  /** HS256 key for access tokens; unset: a random key generated once and kept in the database. */
  readonly jwtSecret: string | undefined;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** Key (32+ chars) that encrypts webhook secrets at rest; unset: generated and kept in the database. */
  readonly secretKey: string | undefined;
  /** smtp:// or smtps:// URL; `log:` prints every mail, body included, to the log; unset: mails are dropped (recipient and subject logged). */
  readonly smtpUrl: string | undefined;
  /** TLS_CERT_FILE/TLS_KEY_FILE (PEM): the HTTP server serves HTTPS and WSS; reloaded on SIGHUP. Unset: plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly mailFrom: string;
  /** Link sent in password-reset mails; the token is appended. */
  readonly passwordResetUrl: string;
  /** SIGTERM: how long readiness fails (and requests are still served) before new connections are refused. */
  readonly shutdownGraceMs: number;
  /** Bearer token GET /metrics requires; unset: /metrics answers loopback clients only. */
  readonly metricsToken: string | undefined;
  /** Webhook deliveries (docs/webhooks.md). */
  readonly webhooks: {
    /** Hosts, IP addresses and CIDR ranges the SSRF guard lets through (development, tests). */
    readonly allowedHosts: readonly string[];
    /** One attempt, DNS to the last byte read. */
    readonly timeoutMs: number;
    /** POSTs per delivery, the first included. */
    readonly maxAttempts: number;
    /** Delay after the first failed attempt; each next one is 3 times longer. */
    readonly retryBaseMs: number;
    /** A webhook is disabled after this many deliveries in a row failed for good. */
    readonly disableAfter: number;
    /** Deliveries in flight per process (their own worker pool: a slow receiver cannot hold up schedules). */
    readonly concurrency: number;
    /** How long a user's list of active webhooks is reused when matching events. */
    readonly cacheMs: number;
    /** Finished deliveries older than this are deleted from the log. */
    readonly retentionDays: number;
  };
  /** The MQTT device endpoint (docs/mqtt.md). */
  readonly mqtt: {
    /** Port of the built-in device endpoint; null: off (MQTT_PORT=off, or MQTT_URL set). */
    readonly port: number | null;
    readonly host: string;
    /** Port of the endpoint over TLS (the TLS_CERT_FILE/TLS_KEY_FILE certificate, or MQTT_TLS_*); null: off. */
    readonly tlsPort: number | null;
    /** Topics are `<prefix>/device/<id>/...`. */
    readonly topicPrefix: string;
    /** An external broker to bind to instead of listening (mqtt:// or mqtts://). */
    readonly url: string | undefined;
    /** Keep-alive a client gets when it asks for none or for more (seconds); the session ends after 1.5 times it. */
    readonly maxKeepAliveSeconds: number;
  };
  /** Telemetry history: retention of each level, rollups, backfill limits. */
  readonly history: HistoryConfig;
  /** Firmware images and releases (docs/ota.md). */
  readonly ota: OtaConfig;
  /** Lanes of their own for history reads and reactions, and the listen backlog. */
  readonly capacity: CapacityConfig;
  readonly limits: {
    /** Live subscriptions per graphql-ws socket, and per user across sockets and SSE streams of a process. */
    readonly subscriptionsPerSocket: number;
    readonly subscriptionsPerUser: number;
    /** Devices per account: each has its own REST budget, so the quota bounds what one account can send. */
    readonly devicesPerUser: number;
    /** A request whose body has not fully arrived after this is answered 408 and closed. */
    readonly requestTimeoutMs: number;
    readonly bodyBytes: number;
    readonly keysPerReport: number;
    readonly keyLength: number;
    readonly stringBytes: number;
  };
}

/*
 * Settings that depend on another one derive their default from it, so setting one alone is always
 * valid; only a contradiction the operator wrote (an explicit value against the other's value) is
 * refused, and the message names both.
 */

function lastSeenFlushMs(env: Env, offlineTimeoutMs: number): number {
  // Contacts must reach the database well before the offline sweep would judge a device by them.
  if (!isSet(env, "LAST_SEEN_FLUSH_SECONDS")) return Math.min(5000, Math.floor(offlineTimeoutMs / 2));
  const flushMs = int(env, "LAST_SEEN_FLUSH_SECONDS", 5, 1, 3600) * 1000;
  if (flushMs >= offlineTimeoutMs) {
    throw new ConfigError(
      `LAST_SEEN_FLUSH_SECONDS (${flushMs / 1000}) must be shorter than OFFLINE_TIMEOUT (${offlineTimeoutMs / 1000}); ` +
        "leave LAST_SEEN_FLUSH_SECONDS unset to derive it from OFFLINE_TIMEOUT",
    );
  }
  return flushMs;
}

function checkPorts(config: Config): void {
  // The embedded PostgreSQL listens on 127.0.0.1: whichever of the two started second would find its port taken.
  const loopback = ["0.0.0.0", "::", "127.0.0.1", "localhost", "::1"].includes(config.host);
  if (!config.databaseUrl && config.embeddedPgPort !== 0 && config.embeddedPgPort === config.port && loopback) {
    throw new ConfigError(`EMBEDDED_PG_PORT and PORT are both ${config.port}: the embedded PostgreSQL and the HTTP server need different ports`);
  }
}

function mqttConfig(env: Env): Config["mqtt"] {
  const brokerUrl = url(env, "MQTT_URL", ["mqtt:", "mqtts:", "ws:", "wss:"]);
  const prefix = env.MQTT_TOPIC_PREFIX?.trim() || "thingsnxt";
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix)) {
    throw new ConfigError(`MQTT_TOPIC_PREFIX must be topic levels of letters, digits, "_", "-" and "." separated by "/", got "${prefix}"`);
  }
  const port = portOrOff(env, "MQTT_PORT", 1883);
  const tlsPort = portOrOff(env, "MQTTS_PORT", null);
  if (brokerUrl && isSet(env, "MQTT_PORT") && port !== null) {
    throw new ConfigError("MQTT_URL and MQTT_PORT are both set: with an external broker the server does not listen itself; unset MQTT_PORT or set it to off");
  }
  return {
    port: brokerUrl ? null : port,
    host: env.MQTT_HOST?.trim() || env.HOST?.trim() || "0.0.0.0",
    tlsPort: brokerUrl ? null : tlsPort,
    topicPrefix: prefix,
    url: brokerUrl,
    maxKeepAliveSeconds: int(env, "MQTT_MAX_KEEPALIVE_SECONDS", 300, 5, 3600), // 5 min
  };
}

/** Both or neither; whether the files can be read is checked when the server starts (src/platform/tls.ts). */
function tlsFiles(env: Env): Config["tls"] {
  const certFile = env.TLS_CERT_FILE?.trim() || undefined;
  const keyFile = env.TLS_KEY_FILE?.trim() || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    const [given, missing] = certFile ? ["TLS_CERT_FILE", "TLS_KEY_FILE"] : ["TLS_KEY_FILE", "TLS_CERT_FILE"];
    throw new ConfigError(`${given} is set but ${missing} is not: HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE (or neither, for plain HTTP)`);
  }
  return { certFile, keyFile };
}

export function loadConfig(env: Env = process.env): Config {
  const offlineTimeoutMs = int(env, "OFFLINE_TIMEOUT", 60, 1, 86_400) * 1000; // 60 s
  const config: Config = {
    nodeEnv: oneOf(env, "NODE_ENV", ["development", "production", "test"] as const, "development"),
    port: int(env, "PORT", 8000, 0, 65535),
    host: env.HOST?.trim() || "0.0.0.0",
    databaseUrl: url(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
    dataDir: env.DATA_DIR?.trim() || "./data",
    embeddedPgPort: int(env, "EMBEDDED_PG_PORT", 0, 0, 65535),
    dbPoolSize: int(env, "DB_POOL_SIZE", 10, 1, 200),
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
    logLevel: oneOf(env, "LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, "info"),
    rateLimit: {
      max: int(env, "RATE_LIMIT_MAX", 100, 1, 1_000_000_000),
      windowMs: int(env, "RATE_LIMIT_WINDOW_SECONDS", 60, 1, 86_400) * 1000, // 60 s
    },
    graphqlRateLimitFactor: int(env, "GRAPHQL_RATE_LIMIT_FACTOR", 1, 1, 1_000_000),
    trustProxyHops: int(env, "TRUST_PROXY", 0, 0, 10),
    offlineTimeoutMs,
    lastSeenFlushMs: lastSeenFlushMs(env, offlineTimeoutMs), // 5 s, less when OFFLINE_TIMEOUT is under 10 s
    statusAlertCooldownMs: int(env, "STATUS_ALERT_COOLDOWN_SECONDS", 60, 0, 86_400) * 1000, // 60 s
    jobPollMs: int(env, "JOB_POLL_MS", 250, 50, 60_000), // 250 ms: schedules fire within a second
    jwtSecret: secret(env, "JWT_SECRET"),
    accessTokenTtlSeconds: int(env, "ACCESS_TOKEN_TTL_SECONDS", 900, 10, 86_400), // 15 min
    refreshTokenTtlSeconds: int(env, "REFRESH_TOKEN_TTL_DAYS", 30, 1, 365) * 86_400, // 30 days
    secretKey: secret(env, "SECRET_KEY"),
    smtpUrl: env.SMTP_URL?.trim() === "log:" ? "log:" : url(env, "SMTP_URL", ["smtp:", "smtps:"]), // log: prints mails
    tls: tlsFiles(env),
    mailFrom: env.MAIL_FROM?.trim() || "ThingsNXT <no-reply@localhost>",
    passwordResetUrl: url(env, "PASSWORD_RESET_URL", ["http:", "https:"]) ?? "http://localhost:8000/reset-password?token=",
    metricsToken: token(env, "METRICS_TOKEN"),
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_SECONDS", 0, 0, 300) * 1000,
    webhooks: {
      allowedHosts: allowList(env, "WEBHOOK_ALLOWED_HOSTS"),
      timeoutMs: int(env, "WEBHOOK_TIMEOUT_MS", 10_000, 100, 60_000), // 10 s
      maxAttempts: int(env, "WEBHOOK_MAX_ATTEMPTS", 6, 1, 20),
      retryBaseMs: int(env, "WEBHOOK_RETRY_BASE_MS", 30_000, 1, 3_600_000), // 30 s, then 1.5, 4.5, 13.5, 40.5 min
      disableAfter: int(env, "WEBHOOK_DISABLE_AFTER", 10, 1, 10_000),
      concurrency: int(env, "WEBHOOK_CONCURRENCY", 10, 1, 200),
      cacheMs: int(env, "WEBHOOK_CACHE_MS", 1000, 0, 60_000), // 1 s
      retentionDays: int(env, "WEBHOOK_LOG_RETENTION_DAYS", 7, 1, 3650),
    },
    mqtt: mqttConfig(env),
    history: historyConfig(env),
    ota: otaConfig(env),
    capacity: capacityConfig(env),
    limits: {
      subscriptionsPerSocket: int(env, "SUBSCRIPTIONS_PER_SOCKET", 100, 1, 100_000),
      subscriptionsPerUser: int(env, "SUBSCRIPTIONS_PER_USER", 500, 1, 1_000_000),
      devicesPerUser: int(env, "MAX_DEVICES_PER_USER", 1000, 1, 1_000_000),
      requestTimeoutMs: int(env, "REQUEST_TIMEOUT_SECONDS", 30, 1, 3600) * 1000, // 30 s; long polls wait at most 30 s after their body
      bodyBytes: int(env, "MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024), // 64 KiB
      keysPerReport: int(env, "MAX_KEYS_PER_REPORT", 256, 1, 10_000),
      keyLength: int(env, "MAX_KEY_LENGTH", 64, 1, 1024),
      stringBytes: int(env, "MAX_STRING_BYTES", 1024, 1, 1024 * 1024), // 1 KiB
    },
  };
  checkPorts(config);
  if (config.mqtt.tlsPort !== null && !config.tls) throw new ConfigError("MQTTS_PORT needs a certificate: set TLS_CERT_FILE and TLS_KEY_FILE");
  return Object.freeze(config);
}
