import { afterAll, describe, expect, it } from "vitest";
import { addDevice, signUp, type Account } from "../helpers/graphql.js";
import { eventually } from "../helpers/fixture.js";
import { createTestDatabase, sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { createRelease, makeImage, release, report, upload } from "./helpers.js";

const ENV = { RATE_LIMIT_MAX: "100000" };
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** When each device's offer was set (the desired entry's time): a second offer would move it. */
async function offers(s: TestServer, ids: string[], releaseId: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of ids) {
    const entry = (await s.services.state.get(id)).desired.ota;
    if ((entry?.value as { release?: string } | undefined)?.release === releaseId) out.set(id, entry!.setAt);
  }
  return out;
}

describe("a restart in the middle of a staged release", () => {
  it("goes on where it stopped, and offers nothing twice", async () => {
    db = await createTestDatabase();
    server = await startTestServer(ENV, db.url);
    const alice: Account = await signUp(server.url);
    const targets = [];
    for (let i = 0; i < 6; i++) targets.push(await addDevice(server.url, alice));
    const ids = targets.map((d) => d.id);
    const fw = await upload(server.url, alice.accessToken, "r", "7.0.0", makeImage("7.0.0", 3000));
    const created = await createRelease(server.url, alice, {
      firmwareId: fw.body.id,
      deviceIds: ids,
      rolloutPercent: 50,
      abortFailurePercent: 100,
      minFinished: 6,
    });
    const releaseId = created.data.createRelease.id as string;
    const before = await eventually(
      "the first stage offered",
      async () => {
        const o = await offers(server!, ids, releaseId);
        return o.size === 3 && o;
      },
      15_000,
    );
    await server.close();

    server = await startTestServer(ENV, db.url);
    const base = server.url;
    await sleep(1000); // the new process's worker runs whatever ticks were due
    const after = await offers(server, ids, releaseId);
    expect(after).toEqual(before); // the same three, each offered once
    const first = targets.find((d) => d.id === [...before.keys()][0])!;
    await report(base, first, { fw_version: "7.0.0" });
    const next = await eventually(
      "the next device offered",
      async () => {
        const o = await offers(server!, ids, releaseId);
        return o.size === 3 && !o.has(first.id) && o;
      },
      15_000,
    );
    for (const [id, at] of next) if (before.has(id)) expect(at).toBe(before.get(id));
    const r = await release(base, alice, releaseId);
    expect(r.counts).toMatchObject({ targeted: 6, updated: 1, offered: 3 });
    expect(r.devices.filter((d) => d.state === "PENDING")).toHaveLength(2);
  });
});
