import { describe, expect, it } from "vitest";
import { MAX_HISTORY_BYTES } from "../../src/services/telemetry/history.service.js";
import { useTestServer } from "../helpers/fixture.js";
import { addDevice, codeOf, gql } from "../helpers/graphql.js";

/** An answer's size is bounded by its bytes, not only by its number of points. */
const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });
const HISTORY = `query ($d: ID!, $first: Int) { telemetryHistory(deviceId: $d, key: "blob", first: $first) { ts value } }`;

describe("telemetryHistory response size", () => {
  it("refuses raw history whose values exceed the byte cap, and answers a smaller window", async () => {
    const device = await addDevice(ctx.base, ctx.alice);
    // 5,000 points of 1,000-character strings: about 5 MiB of values for a query of the same cost as 5,000 numbers.
    await ctx.server.services.pool.query(
      `WITH s AS (INSERT INTO telemetry_series (device_id, key) VALUES ($1, 'blob') RETURNING id)
       INSERT INTO telemetry_points (series_id, ts, num, val)
       SELECT s.id, now() - make_interval(secs => g), NULL, to_jsonb(repeat('x', 1000)) FROM s, generate_series(1, 5000) g`,
      [device.id],
    );
    const all = await gql(ctx.base, HISTORY, { d: device.id, first: 5000 }, ctx.alice.accessToken);
    expect(codeOf(all)).toBe("BAD_USER_INPUT");
    expect(all.errors![0]!.message).toMatch(new RegExp(`more than ${MAX_HISTORY_BYTES / 1024 / 1024} MiB.*narrow from/to`));
    const some = await gql(ctx.base, HISTORY, { d: device.id, first: 100 }, ctx.alice.accessToken);
    expect(some.data.telemetryHistory).toHaveLength(100);
    expect(some.data.telemetryHistory[99].value).toHaveLength(1000);
  });
});
