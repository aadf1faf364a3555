import { ConfigError, int, isSet, type Env } from "./env.js";

/** Over-the-air updates (docs/ota.md). */
export interface OtaConfig {
  /** Largest firmware image an upload may carry; bigger ones are refused (413) before anything is stored. */
  readonly maxFirmwareBytes: number;
  /** A device offered an update that has not succeeded within this time is TIMED_OUT (a failure). */
  readonly timeoutMs: number;
}

export function otaConfig(env: Env): OtaConfig {
  // OTA_TIMEOUT_SECONDS is for tests and demos, where 30 minutes is too long to wait.
  if (isSet(env, "OTA_TIMEOUT_SECONDS") && isSet(env, "OTA_TIMEOUT_MINUTES")) {
    throw new ConfigError("OTA_TIMEOUT_MINUTES and OTA_TIMEOUT_SECONDS are both set: set one of them");
  }
  const timeoutMs = isSet(env, "OTA_TIMEOUT_SECONDS")
    ? int(env, "OTA_TIMEOUT_SECONDS", 1800, 1, 604_800) * 1000
    : int(env, "OTA_TIMEOUT_MINUTES", 30, 1, 10_080) * 60_000; // 30 min, at most a week
  return {
    maxFirmwareBytes: int(env, "MAX_FIRMWARE_BYTES", 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024), // 16 MiB
    timeoutMs,
  };
}
