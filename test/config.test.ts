import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/platform/config.js";

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
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got \"loud\""],
    [{ RATE_LIMIT_MAX: "0" }, "RATE_LIMIT_MAX must be between 1 and 1000000000, got 0"],
    [{ OFFLINE_TIMEOUT: "5", LAST_SEEN_FLUSH_SECONDS: "5" }, "LAST_SEEN_FLUSH_SECONDS must be shorter than OFFLINE_TIMEOUT"],
  ])("refuses %o with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
