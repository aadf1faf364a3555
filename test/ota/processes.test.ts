import { afterAll, describe, expect, it } from "vitest";
import { Topic } from "../../src/platform/event-bus.js";
import { addDevice, gql, signUp } from "../helpers/graphql.js";
import { eventually } from "../helpers/fixture.js";
import { createTestDatabase, startTestServer, type TestServer } from "../helpers/server.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";
import { createRelease, makeImage, release, report, upload } from "./helpers.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const ENV = { RATE_LIMIT_MAX: "100000", REDIS_URL: redisUrl, WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", WEBHOOK_CACHE_MS: "0" };
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
const servers: TestServer[] = [];
const receiver = new WebhookReceiver();
afterAll(async () => {
  for (const s of servers) await s.close();
  await db?.drop();
  await receiver.close();
});

describe("two processes on one database", () => {
  it("offer each device once and send each webhook once, whichever process runs the ticks and takes the reports", async () => {
    db = await createTestDatabase();
    servers.push(await startTestServer(ENV, db.url), await startTestServer(ENV, db.url));
    const [a, b] = servers as [TestServer, TestServer];
    const url = (await receiver.start()).on("/ota");
    // Offers as each process wrote them (its own events only): a device offered twice would show twice.
    const offers = new Map<string, number>();
    for (const s of servers) {
      s.services.bus.subscribe(Topic.DeviceStateChanged, ({ deviceId, state, commanded }, { remote }) => {
        if (!remote && commanded && state.desired.ota) offers.set(deviceId, (offers.get(deviceId) ?? 0) + 1);
      });
    }
    const alice = await signUp(a.url);
    await gql(
      a.url,
      `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }`,
      { i: { url, events: ["ota_updated"] } },
      alice.accessToken,
    );
    const targets = [];
    for (let i = 0; i < 8; i++) targets.push(await addDevice(a.url, alice));
    const fw = await upload(a.url, alice.accessToken, "p", "1.0.0", makeImage("1.0.0", 3000));
    const releaseId = (await createRelease(a.url, alice, { firmwareId: fw.body.id, deviceIds: targets.map((d) => d.id), rolloutPercent: 25, minFinished: 8 }))
      .data.createRelease.id as string;
    const updated = new Set<string>();
    // Each offered device succeeds, reporting to one process or the other; the next ones follow.
    for (let round = 0; updated.size < targets.length && round < 40; round++) {
      const r = await eventually(
        "an offered device",
        async () => {
          const now = await release(a.url, alice, releaseId);
          return now.devices.some((d) => d.state === "OFFERED" && !updated.has(d.device!.id)) && now;
        },
        15_000,
      );
      for (const d of r.devices.filter((x) => x.state === "OFFERED" && !updated.has(x.device!.id))) {
        updated.add(d.device!.id);
        await report(
          updated.size % 2 ? a.url : b.url,
          targets.find((t) => t.id === d.device!.id)!,
          { fw_version: "1.0.0" },
        );
      }
    }
    const done = await eventually("COMPLETED", async () => {
      const r = await release(b.url, alice, releaseId);
      return r.status === "COMPLETED" && r;
    });
    expect(done.counts).toMatchObject({ targeted: 8, updated: 8 });
    expect([...offers.values()]).toEqual(targets.map(() => 1));
    await eventually("eight deliveries", () => receiver.at("/ota").length >= 8, 15_000);
    const delivered = receiver.at("/ota").map((r) => (JSON.parse(r.body) as { data: { deviceId: string } }).data.deviceId);
    expect(delivered.sort()).toEqual(targets.map((d) => d.id).sort());
  });
});
