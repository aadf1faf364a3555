import { ConfigError, int, oneOf, type Env } from "./env.js";

/** Telemetry history: how long each level is kept, and what a device may send (README "History"). */
export interface HistoryConfig {
  /** Days raw points are kept; 0 keeps them forever. Whole monthly partitions are dropped once past it. */
  readonly rawRetentionDays: number;
  /** Days 5-minute rollups are kept; 0: forever. */
  readonly fiveMinuteRetentionDays: number;
  /** Days hourly rollups are kept; 0 (the default): forever. */
  readonly hourRetentionDays: number;
  /** Rollups maintained at ingest and used by bucketed queries; off: every chart reads raw points. */
  readonly rollups: boolean;
  /** Records in one backfill batch. */
  readonly maxBatchRecords: number;
  /** Body of one backfill batch. */
  readonly batchBodyBytes: number;
  /** Points (key values) one device may store per UTC day, reports and backfill together. */
  readonly maxPointsPerDay: number;
}

export function historyConfig(env: Env): HistoryConfig {
  const config: HistoryConfig = {
    rawRetentionDays: int(env, "HISTORY_RAW_RETENTION_DAYS", 90, 0, 36_500),
    fiveMinuteRetentionDays: int(env, "HISTORY_5M_RETENTION_DAYS", 730, 0, 36_500),
    hourRetentionDays: int(env, "HISTORY_1H_RETENTION_DAYS", 0, 0, 36_500),
    rollups: oneOf(env, "HISTORY_ROLLUPS", ["on", "off"] as const, "on") === "on",
    maxBatchRecords: int(env, "MAX_BATCH_RECORDS", 1000, 1, 100_000),
    batchBodyBytes: int(env, "MAX_BATCH_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024), // 1 MiB
    maxPointsPerDay: int(env, "MAX_POINTS_PER_DAY", 100_000, 1, 1_000_000_000),
  };
  // A coarser level must outlive the finer one, or a chart over the gap would find nothing at all.
  const forever = (days: number) => (days === 0 ? Number.POSITIVE_INFINITY : days);
  if (forever(config.fiveMinuteRetentionDays) < forever(config.rawRetentionDays)) {
    throw new ConfigError("HISTORY_5M_RETENTION_DAYS must be at least HISTORY_RAW_RETENTION_DAYS (0 means forever)");
  }
  if (forever(config.hourRetentionDays) < forever(config.fiveMinuteRetentionDays)) {
    throw new ConfigError("HISTORY_1H_RETENTION_DAYS must be at least HISTORY_5M_RETENTION_DAYS (0 means forever)");
  }
  return config;
}
