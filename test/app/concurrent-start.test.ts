import { describe, expect, it } from "vitest";
import { migrations } from "../../src/app/modules.js";
import { createTestDatabase, http, startTestServer } from "../helpers/server.js";

describe("first starts at once", () => {
  it("three processes starting together on an empty database all come up; the schema is migrated once", async () => {
    const db = await createTestDatabase();
    try {
      const started = await Promise.allSettled([0, 1, 2].map(() => startTestServer({}, db.url)));
      const up = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      try {
        expect(started.filter((s) => s.status === "rejected").map((s) => String((s as PromiseRejectedResult).reason))).toEqual([]);
        for (const server of up) expect((await http(server.url, "GET", "/health")).status).toBe(200);
        const { rows } = await up[0]!.services.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM migrations`);
        expect(rows[0]!.n).toBe(migrations.length);
      } finally {
        await Promise.all(up.map((s) => s.close()));
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});
