import pg, { type Pool } from "pg";
import type { Logger } from "pino";
import { QUERY_TIMEOUT_MS } from "./data-source.js";

/**
 * Pools of their own beside the main one (DB_POOL_SIZE), so work that comes in floods cannot take
 * the connections device reports need: the main pool answers a report, or a 503 within 2 s.
 */
function lanePool(url: string, name: string, options: pg.PoolConfig, log: Logger): Pool {
  const pool = new pg.Pool({ connectionString: url, keepAlive: true, application_name: `thingsnxt-${name}`, ...options });
  // An idle client that loses its connection emits here; without a listener the process would exit.
  pool.on("error", (error) => log.warn({ err: error.message, lane: name }, "database connection lost"));
  return pool;
}

/**
 * The history lane, for charts and exports: a dozen heavy reads queue among themselves instead of
 * holding the main pool (on it, twelve charts over a million rows gave reports p99 3.2 s and 503s).
 * A chart waits for a connection at most as long as it may run, then fails as unavailable. Its
 * statements are cut after `timeoutMs` by the server (a little later by the client, for a frozen
 * server) and run without parallel workers: one chart is one backend, so the lane's size bounds
 * the database cores it can take from ingest. An export's cursor transaction idles between FETCHes
 * while its client reads; it may do so for a minute.
 */
export function createHistoryPool(url: string, options: { size: number; timeoutMs: number }, log: Logger): Pool {
  return lanePool(
    url,
    "history",
    {
      max: options.size,
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs + 500,
      statement_timeout: options.timeoutMs,
      idle_in_transaction_session_timeout: 60_000,
      options: "-c max_parallel_workers_per_gather=0",
    },
    log,
  );
}

/**
 * The reactions lane, for what follows a report: rule evaluation, webhook matching, notifications
 * and alert mails, and those features' own API. A fleet reconnecting at once makes one rule load
 * and one alert per device; on the main pool they queued past its 2 s wait, a report's commit
 * timed out there, and the writer answered 503 to every report queued behind it. Reactions may
 * wait longer for a connection (10 s) than a device request; their statements keep the main bounds.
 */
export function createReactionsPool(url: string, options: { size: number }, log: Logger): Pool {
  return lanePool(
    url,
    "reactions",
    {
      max: options.size,
      connectionTimeoutMillis: 10_000,
      query_timeout: QUERY_TIMEOUT_MS,
      statement_timeout: QUERY_TIMEOUT_MS - 500,
      idle_in_transaction_session_timeout: 10_000,
    },
    log,
  );
}
