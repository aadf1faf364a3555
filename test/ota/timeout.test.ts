import { describe, expect, it } from "vitest";
import { addDevice } from "../helpers/graphql.js";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { createRelease, download, makeImage, release, report, stateOf, upload } from "./helpers.js";

// OTA_TIMEOUT_SECONDS: the seconds-granularity variant of OTA_TIMEOUT_MINUTES, for tests.
const t = useTestServer({ RATE_LIMIT_MAX: "100000", OTA_TIMEOUT_SECONDS: "2" });

describe("the per-device timeout", () => {
  it("marks a device that does not succeed in time TIMED_OUT, a failure, and withdraws its offer", async () => {
    const slow = await addDevice(t.base, t.alice);
    const quick = await addDevice(t.base, t.alice);
    const fw = await upload(t.base, t.alice.accessToken, "t", "9.0.0", makeImage("9.0.0", 3000));
    const created = await createRelease(t.base, t.alice, { firmwareId: fw.body.id, deviceIds: [slow.id, quick.id], abortFailurePercent: 100, minFinished: 2 });
    const releaseId = created.data.createRelease.id as string;
    await eventually("offered", async () => "ota" in (await t.server.services.state.get(slow.id)).desired, 15_000);
    await report(t.base, quick, { fw_version: "9.0.0" });
    expect((await download(t.base, slow.token)).status).toBe(200); // a download alone is no success
    const r = await eventually(
      "TIMED_OUT",
      async () => {
        const now = await release(t.base, t.alice, releaseId);
        return stateOf(now, slow.id) === "TIMED_OUT" && now;
      },
      20_000,
    );
    expect(r.counts).toMatchObject({ updated: 1, timedOut: 1, offered: 0 });
    expect(stateOf(r, quick.id)).toBe("UPDATED");
    await eventually("the offer withdrawn", async () => !("ota" in (await t.server.services.state.get(slow.id)).desired));
    expect((await download(t.base, slow.token)).status).toBe(304);
    await eventually("the release ended", async () => (await release(t.base, t.alice, releaseId)).status === "COMPLETED");
  });
});
