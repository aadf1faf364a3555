import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/platform/config.js";

describe("config", () => {
  it("has documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8000,
      dataDir: "./data",
      databaseUrl: undefined,
      rateLimit: { max: 100, windowMs: 60_000 },
      trustProxyHops: 0,
      offlineTimeoutMs: 60_000,
      lastSeenFlushMs: 5000,
      metricsToken: undefined,
      limits: { bodyBytes: 65_536, keysPerReport: 256, keyLength: 64, stringBytes: 1024 },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ PORT: "eighty" }, 'PORT must be a whole number, got "eighty"'],
    [{ PORT: "70000" }, "PORT must be between 0 and 65535, got 70000"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL must start with postgres:// or postgresql://"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL is not a valid URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL must start with redis:// or rediss://"],
    [{ LOG_LEVEL: "loud" }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ RATE_LIMIT_MAX: "0" }, "RATE_LIMIT_MAX must be between 1 and 1000000000, got 0"],
    [{ OFFLINE_TIMEOUT: "5", LAST_SEEN_FLUSH_SECONDS: "5" }, "LAST_SEEN_FLUSH_SECONDS (5) must be shorter than OFFLINE_TIMEOUT (5)"],
    [{ LAST_SEEN_FLUSH_SECONDS: "120" }, "LAST_SEEN_FLUSH_SECONDS (120) must be shorter than OFFLINE_TIMEOUT (60)"],
    [{ PORT: "5433", EMBEDDED_PG_PORT: "5433" }, "EMBEDDED_PG_PORT and PORT are both 5433"],
    [{ METRICS_TOKEN: "short" }, "METRICS_TOKEN must be at least 16 characters"],
    [{ METRICS_TOKEN: "sixteen chars and a space" }, "METRICS_TOKEN must be printable ASCII without spaces"],
  ])("refuses %o with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  describe("settings that depend on another one", () => {
    it.each([
      ["5", 2500],
      ["1", 500],
      ["3", 1500],
      ["10", 5000],
      ["3600", 5000],
    ])("OFFLINE_TIMEOUT=%s alone starts: the last-seen flush follows it (%i ms)", (offline, flushMs) => {
      const c = loadConfig({ OFFLINE_TIMEOUT: offline });
      expect(c.offlineTimeoutMs).toBe(Number(offline) * 1000);
      expect(c.lastSeenFlushMs).toBe(flushMs);
      expect(c.lastSeenFlushMs).toBeLessThan(c.offlineTimeoutMs);
    });

    it("keeps an explicit LAST_SEEN_FLUSH_SECONDS that fits, with or without OFFLINE_TIMEOUT", () => {
      expect(loadConfig({ OFFLINE_TIMEOUT: "5", LAST_SEEN_FLUSH_SECONDS: "4" }).lastSeenFlushMs).toBe(4000);
      expect(loadConfig({ LAST_SEEN_FLUSH_SECONDS: "30" }).lastSeenFlushMs).toBe(30_000);
      expect(loadConfig({ LAST_SEEN_FLUSH_SECONDS: " " }).lastSeenFlushMs).toBe(5000);
    });

    it("names both variables when an explicit pair contradicts itself, and says how to fix it", () => {
      expect(() => loadConfig({ OFFLINE_TIMEOUT: "5", LAST_SEEN_FLUSH_SECONDS: "10" })).toThrow(
        "LAST_SEEN_FLUSH_SECONDS (10) must be shorter than OFFLINE_TIMEOUT (5); leave LAST_SEEN_FLUSH_SECONDS unset to derive it from OFFLINE_TIMEOUT",
      );
    });

    it("lets EMBEDDED_PG_PORT equal PORT only when the two cannot meet", () => {
      expect(loadConfig({ PORT: "5433", EMBEDDED_PG_PORT: "5433", DATABASE_URL: "postgres://db/x" }).port).toBe(5433);
      expect(loadConfig({ PORT: "5433", EMBEDDED_PG_PORT: "5433", HOST: "10.0.0.5" }).port).toBe(5433);
      expect(loadConfig({ PORT: "0", EMBEDDED_PG_PORT: "0" }).port).toBe(0);
    });

    it(".env.example copied to .env is valid, and OFFLINE_TIMEOUT=5 set on top of it still starts", () => {
      const example = parseEnv(readFileSync(new URL("../../.env.example", import.meta.url), "utf8"));
      expect(loadConfig(example).lastSeenFlushMs).toBe(5000);
      expect(loadConfig({ ...example, OFFLINE_TIMEOUT: "5" }).lastSeenFlushMs).toBe(2500);
    });
  });

  it("reads METRICS_TOKEN", () => {
    expect(loadConfig({ METRICS_TOKEN: "s3cret-scrape-token-0123" }).metricsToken).toBe("s3cret-scrape-token-0123");
  });
});
