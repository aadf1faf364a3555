import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS, invalidDeviceToken, notFound, type Resource } from "../../src/platform/errors.js";

describe("the error catalogue", () => {
  it("the README lists every code with its HTTP status, and nothing else", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("| code | HTTP status |")).split("\n\n")[0]!;
    const listed = Object.fromEntries([...table.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
    expect(listed).toEqual(ERROR_STATUS);
  });

  it("each factory has one wording", () => {
    const resources: Resource[] = ["account", "dashboard", "device", "notification", "rule", "schedule", "webhook", "widget"];
    expect(resources.map((r) => notFound(r).message)).toEqual([
      "Account not found",
      "Dashboard not found",
      "Device not found",
      "Notification not found",
      "Rule not found",
      "Schedule not found",
      "Webhook not found",
      "Widget not found",
    ]);
    expect(notFound("device").code).toBe("NOT_FOUND");
    expect(invalidDeviceToken()).toMatchObject({ code: "FORBIDDEN", message: "Invalid device token" });
  });
});

describe("a foreign-key race", () => {
  it("a row deleted between check and insert reads as NOT_FOUND of what was referenced", async () => {
    const { createTestDatabase, startTestServer } = await import("../helpers/server.js");
    const { notFoundOfForeignKey } = await import("../../src/platform/errors.js");
    const db = await createTestDatabase();
    const server = await startTestServer({}, db.url);
    try {
      const error = await server.services.pool.query(`INSERT INTO device_state (device_id) VALUES ('00000000-0000-4000-8000-000000000000')`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(notFoundOfForeignKey(error)).toMatchObject({ code: "NOT_FOUND", message: "Device not found" });
      expect(notFoundOfForeignKey(new Error("other"))).toBeUndefined();
    } finally {
      await server.close();
      await db.drop();
    }
  });
});
