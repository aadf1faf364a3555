import { int, type Env } from "./env.js";

/** How load is kept apart: history reads and reactions in lanes of their own, and a listen queue for a fleet (README "Configuration"). */
export interface CapacityConfig {
  /**
   * Connections of the history lane (charts, exports): they never take one of DB_POOL_SIZE, which device
   * writes need. Each can keep one database core busy, so at most half of the database's cores.
   */
  readonly historyPoolSize: number;
  /** The longest one history statement (a chart, one FETCH of an export) may run. */
  readonly historyTimeoutMs: number;
  /** Connections of the reactions lane: rules, webhooks, notifications (and their API), so a burst of them cannot take DB_POOL_SIZE's. */
  readonly reactionsPoolSize: number;
  /** Connections the kernel queues before the server accepts them (capped by net.core.somaxconn on Linux). */
  readonly listenBacklog: number;
}

export function capacityConfig(env: Env): CapacityConfig {
  return {
    historyPoolSize: int(env, "HISTORY_POOL_SIZE", 2, 1, 100),
    historyTimeoutMs: int(env, "HISTORY_TIMEOUT_SECONDS", 10, 1, 3600) * 1000, // 10 s
    reactionsPoolSize: int(env, "REACTIONS_POOL_SIZE", 4, 1, 100),
    listenBacklog: int(env, "LISTEN_BACKLOG", 2048, 1, 65_535),
  };
}
