import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { addDevice, gql } from "../helpers/graphql.js";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { sleep } from "../helpers/server.js";
import { subscribe } from "../helpers/ws.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";
import { createRelease, download, makeImage, release, report, stateOf, upload } from "./helpers.js";

const t = useTestServer({ RATE_LIMIT_MAX: "100000", WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", WEBHOOK_CACHE_MS: "0" });
const WAIT = 15_000;
let n = 0;

async function firmware(version: string): Promise<string> {
  const res = await upload(t.base, t.alice.accessToken, `fw${n++}`, version, makeImage(version, 4000));
  expect(res.status).toBe(201);
  return res.body.id;
}

async function devices(count: number) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await addDevice(t.base, t.alice));
  return out;
}

const offered = async (id: string) => ((await t.server.services.state.get(id)).desired.ota?.value as { release?: string } | undefined)?.release;
const offeredIds = async (ids: string[], releaseId: string) => {
  const out: string[] = [];
  for (const id of ids) if ((await offered(id)) === releaseId) out.push(id);
  return out;
};

describe("a release", () => {
  it("reaches a long-polling device in its poll answer, and reports move each device (UPDATED, FAILED, ROLLED_BACK)", async () => {
    const [a, b, c] = await devices(3);
    await report(t.base, a!, { fw_version: "1.0.0" });
    const poll = fetch(`${t.base}/telemetry/latest?wait=25`, { headers: { "x-device-token": a!.token } }).then((r) => r.json());
    await sleep(200); // the poll is held
    const fw = await firmware("1.1.0");
    const created = await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: [a!.id, b!.id, c!.id], abortFailurePercent: 100, minFinished: 3 });
    const releaseId = created.data.createRelease.id as string;
    const live = await subscribe(
      t.base,
      t.alice.accessToken,
      `subscription ($r: ID!) { firmwareUpdateChanged(releaseId: $r) { releaseId deviceId state releaseStatus } }`,
      {
        r: releaseId,
      },
    );
    const answer = (await poll) as { data: { ota?: Record<string, unknown> } };
    expect(answer.data.ota).toMatchObject({ version: "1.1.0", url: "/firmware/update", release: releaseId, size: 4000 });
    await eventually("all three offered", async () => (await offeredIds([a!.id, b!.id, c!.id], releaseId)).length === 3, WAIT);

    await report(t.base, a!, { fw_state: "DOWNLOADING" });
    await eventually("a DOWNLOADING", async () => stateOf(await release(t.base, t.alice, releaseId), a!.id) === "DOWNLOADING");
    await report(t.base, a!, { fw_version: "1.1.0" });
    await report(t.base, b!, { fw_state: "FAILED", fw_error: "flash write failed" });
    await report(t.base, c!, { fw_state: "UPDATING" });
    await eventually("c UPDATING", async () => stateOf(await release(t.base, t.alice, releaseId), c!.id) === "UPDATING");
    await report(t.base, c!, { fw_version: "1.0.0" }); // back on the old image after the reboot
    const done = await eventually(
      "the release completed",
      async () => {
        const r = await release(t.base, t.alice, releaseId);
        return r.status === "COMPLETED" && r;
      },
      WAIT,
    );
    expect(done.counts).toEqual({ targeted: 3, offered: 0, downloading: 0, updated: 1, failed: 1, rolledBack: 1, timedOut: 0 });
    const byId = Object.fromEntries(done.devices.map((d) => [d.device!.id, d]));
    expect(byId[a!.id]).toMatchObject({ state: "UPDATED", fromVersion: "1.0.0", error: null });
    expect(byId[b!.id]).toMatchObject({ state: "FAILED", error: "flash write failed" });
    expect(byId[c!.id]).toMatchObject({ state: "ROLLED_BACK" });
    for (const d of [a!, b!, c!]) expect(await offered(d.id)).toBeUndefined(); // every offer withdrawn
    const version = await gql(t.base, `query ($id: ID!) { device(id: $id) { firmwareVersion } }`, { id: a!.id }, t.alice.accessToken);
    expect(version.data.device.firmwareVersion).toBe("1.1.0");
    await eventually(
      "the subscription saw each state",
      () =>
        ["DOWNLOADING", "UPDATED", "FAILED", "UPDATING", "ROLLED_BACK"].every((s) => live.events.some((e) => e.firmwareUpdateChanged.state === s)) &&
        live.events.some((e) => e.firmwareUpdateChanged.releaseStatus === "COMPLETED"),
    );
    await live.dispose();
    const notes = await gql(t.base, `{ notifications(first: 20) { edges { node { type title } } } }`, {}, t.alice.accessToken);
    expect(notes.data.notifications.edges.map((e: { node: { type: string } }) => e.node.type)).toContain("release_completed");
  });

  it("offers rolloutPercent of the devices first, chosen by a hash, and one more for each success", async () => {
    const targets = await devices(10);
    const fw = await firmware("2.0.0");
    const created = await createRelease(t.base, t.alice, {
      firmwareId: fw,
      deviceIds: targets.map((d) => d.id),
      rolloutPercent: 30,
      abortFailurePercent: 100,
      minFinished: 10,
    });
    const releaseId = created.data.createRelease.id as string;
    const ids = targets.map((d) => d.id);
    const expected = [...ids].sort((x, y) => {
      const h = (id: string) =>
        createHash("md5")
          .update(releaseId + id)
          .digest("hex");
      return h(x).localeCompare(h(y));
    });
    await eventually("the first stage offered", async () => (await offeredIds(ids, releaseId)).length === 3, WAIT);
    await sleep(1500); // ticks come and go; the stage stays at three
    expect((await offeredIds(ids, releaseId)).sort()).toEqual(expected.slice(0, 3).sort());
    const r = await release(t.base, t.alice, releaseId);
    expect(r.counts).toMatchObject({ targeted: 10, offered: 3 });
    await report(
      t.base,
      targets.find((d) => d.id === expected[0])!,
      { fw_version: "2.0.0" },
    );
    await eventually("one more offered after a success", async () => (await offeredIds(ids, releaseId)).includes(expected[3]!), WAIT);
    expect((await offeredIds(ids, releaseId)).length).toBe(3);
    await gql(t.base, `mutation ($id: ID!) { cancelRelease(id: $id) { id } }`, { id: releaseId }, t.alice.accessToken);
  });

  it("offers at most maxPerMinute per minute, the next one due a minute after the first", async () => {
    const targets = await devices(5);
    const fw = await firmware("3.0.0");
    const created = await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: targets.map((d) => d.id), maxPerMinute: 2, minFinished: 5 });
    const releaseId = created.data.createRelease.id as string;
    const ids = targets.map((d) => d.id);
    await eventually("two offered", async () => (await offeredIds(ids, releaseId)).length === 2, WAIT);
    await sleep(1500);
    expect((await release(t.base, t.alice, releaseId)).counts.offered).toBe(2);
    const { rows } = await t.server.services.pool.query<{ wait: number }>(
      `SELECT extract(epoch FROM j.run_at - (SELECT min(offered_at) FROM release_devices WHERE release_id = $1))::float AS wait
         FROM graphile_worker.jobs j WHERE j.key = $2`,
      [releaseId, `ota-release:${releaseId}`],
    );
    expect(rows[0]!.wait).toBeGreaterThanOrEqual(60);
    expect(rows[0]!.wait).toBeLessThan(61);
    await gql(t.base, `mutation ($id: ID!) { cancelRelease(id: $id) { id } }`, { id: releaseId }, t.alice.accessToken);
  });

  it("aborts at the threshold: no more offers, standing offers withdrawn (304), the owner notified", async () => {
    const targets = await devices(6);
    const ids = targets.map((d) => d.id);
    const fw = await firmware("4.0.0");
    const created = await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: ids, rolloutPercent: 50, abortFailurePercent: 50, minFinished: 2 });
    const releaseId = created.data.createRelease.id as string;
    await eventually("three offered", async () => (await offeredIds(ids, releaseId)).length === 3, WAIT);
    const stage: Array<{ id: string; token: string }> = [];
    for (const d of targets) if ((await offered(d.id)) === releaseId) stage.push(d);
    await report(t.base, stage[0]!, { fw_state: "FAILED", fw_error: "boom" });
    await sleep(500);
    expect((await release(t.base, t.alice, releaseId)).status).toBe("ACTIVE"); // 1 finished: below minFinished
    await report(t.base, stage[1]!, { fw_state: "FAILED", fw_error: "boom" });
    const aborted = await eventually(
      "ABORTED",
      async () => {
        const r = await release(t.base, t.alice, releaseId);
        return r.status === "ABORTED" && r;
      },
      WAIT,
    );
    expect(aborted.counts).toMatchObject({ targeted: 6, failed: 2 });
    await eventually("the standing offer withdrawn", async () => (await offered(stage[2]!.id)) === undefined, WAIT);
    for (const d of targets) expect((await download(t.base, d.token, { "x-ESP32-version": "3.9.0" })).status).toBe(304);
    await sleep(500);
    expect(await offeredIds(ids, releaseId)).toEqual([]);
    const notes = await gql(t.base, `{ notifications(first: 50) { edges { node { type data } } } }`, {}, t.alice.accessToken);
    const abortedNote = notes.data.notifications.edges.find(
      (e: { node: { type: string; data: { releaseId?: string } } }) => e.node.type === "release_aborted" && e.node.data.releaseId === releaseId,
    );
    expect(abortedNote).toBeDefined();
    // Its devices may join another release now.
    expect((await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: [ids[0]!] })).data.createRelease.status).toBe("ACTIVE");
  });

  it("pauses (offers withdrawn) and resumes (offers set again)", async () => {
    const [d] = await devices(1);
    const fw = await firmware("5.0.0");
    const releaseId = (await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: [d!.id] })).data.createRelease.id as string;
    await eventually("offered", async () => (await offered(d!.id)) === releaseId, WAIT);
    const paused = await gql(t.base, `mutation ($id: ID!) { pauseRelease(id: $id) { status } }`, { id: releaseId }, t.alice.accessToken);
    expect(paused.data.pauseRelease.status).toBe("PAUSED");
    expect(await offered(d!.id)).toBeUndefined();
    expect((await download(t.base, d!.token)).status).toBe(304);
    const again = await gql(t.base, `mutation ($id: ID!) { pauseRelease(id: $id) { status } }`, { id: releaseId }, t.alice.accessToken);
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    await gql(t.base, `mutation ($id: ID!) { resumeRelease(id: $id) { status } }`, { id: releaseId }, t.alice.accessToken);
    await eventually("offered again", async () => (await offered(d!.id)) === releaseId, WAIT);
    expect((await download(t.base, d!.token)).status).toBe(200);
  });

  it("sends ota_updated, ota_failed and release_aborted webhooks, and counts a device that already runs the version as UPDATED", async () => {
    const receiver = await new WebhookReceiver().start();
    const url = receiver.on("/ota");
    const hook = await gql(
      t.base,
      `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }`,
      { i: { url, events: ["ota_updated", "ota_failed", "release_aborted"] } },
      t.alice.accessToken,
    );
    expect(hook.errors).toBeUndefined();
    const [current, failing, other] = await devices(3);
    await report(t.base, current!, { fw_version: "6.0.0" });
    const fw = await firmware("6.0.0");
    const ids = [current!.id, failing!.id, other!.id];
    const releaseId = (await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: ids, abortFailurePercent: 50, minFinished: 2 })).data.createRelease
      .id as string;
    await eventually("the current device UPDATED", async () => stateOf(await release(t.base, t.alice, releaseId), current!.id) === "UPDATED", WAIT);
    expect(await offered(current!.id)).toBeUndefined();
    await eventually("the failing device offered", async () => (await offered(failing!.id)) === releaseId, WAIT);
    await report(t.base, failing!, { fw_state: "FAILED", fw_error: "no space" });
    const events = await eventually(
      "three deliveries",
      () => {
        const got = receiver.at("/ota").map((r) => JSON.parse(r.body) as { event: string; data: Record<string, unknown> });
        return got.length >= 3 && got;
      },
      WAIT,
    );
    expect(events.map((e) => e.event).sort()).toEqual(["ota_failed", "ota_updated", "release_aborted"]);
    expect(events.find((e) => e.event === "ota_failed")!.data).toMatchObject({ releaseId, deviceId: failing!.id, state: "FAILED", error: "no space" });
    expect(events.find((e) => e.event === "ota_updated")!.data).toMatchObject({ releaseId, deviceId: current!.id, version: "6.0.0" });
    expect(events.find((e) => e.event === "release_aborted")!.data).toMatchObject({ releaseId, status: "ABORTED" });
    await receiver.close();
  });

  it("sets an offer again that a crash lost between the commit and the state, once it is 30 s old", async () => {
    const [d] = await devices(1);
    const fw = await firmware("8.0.0");
    const releaseId = (await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: [d!.id] })).data.createRelease.id as string;
    await eventually("offered", async () => (await offered(d!.id)) === releaseId, WAIT);
    // As if the process had died after marking the device OFFERED, before writing the offer.
    const info = (await t.server.services.directory.findById(d!.id))!;
    await t.server.services.state.withdraw(info, ["ota"]);
    const kick = () => t.server.services.jobs.add("ota.release.tick", { releaseId }, { jobKey: `ota-release:${releaseId}` });
    await kick();
    await sleep(1000);
    expect(await offered(d!.id)).toBeUndefined(); // too recent: it may be being written by another process
    const { rows } = await t.server.services.pool.query<{ wait: number }>(
      `SELECT extract(epoch FROM j.run_at - rd.updated_at)::float AS wait FROM graphile_worker.jobs j, release_devices rd
        WHERE j.key = $2 AND rd.release_id = $1`,
      [releaseId, `ota-release:${releaseId}`],
    );
    expect(rows[0]!.wait).toBeGreaterThanOrEqual(30); // looked at again once it is old enough
    expect(rows[0]!.wait).toBeLessThan(31);
    await t.server.services.pool.query(`UPDATE release_devices SET updated_at = now() - interval '1 minute' WHERE release_id = $1`, [releaseId]);
    await kick();
    await eventually("offered again", async () => (await offered(d!.id)) === releaseId, WAIT);
    expect(stateOf(await release(t.base, t.alice, releaseId), d!.id)).toBe("OFFERED");
  });

  it("pages a release's devices in rollout order", async () => {
    const targets = await devices(5);
    const fw = await firmware("8.1.0");
    const releaseId = (await createRelease(t.base, t.alice, { firmwareId: fw, deviceIds: targets.map((d) => d.id), rolloutPercent: 20 })).data.createRelease
      .id as string;
    const page = async (after: string | null) =>
      (
        await gql(
          t.base,
          `query ($id: ID!, $after: ID) { release(id: $id) { devices(first: 2, after: $after) { device { id } state } } }`,
          { id: releaseId, after },
          t.alice.accessToken,
        )
      ).data.release.devices.map((d: { device: { id: string } }) => d.device.id) as string[];
    const seen: string[] = [];
    for (let after: string | null = null, i = 0; i < 4; i++) {
      const ids = await page(after);
      if (ids.length === 0) break;
      seen.push(...ids);
      after = ids[ids.length - 1]!;
    }
    const h = (id: string) =>
      createHash("md5")
        .update(releaseId + id)
        .digest("hex");
    expect(seen).toEqual(targets.map((d) => d.id).sort((x, y) => h(x).localeCompare(h(y))));
  });
});
