import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { addDevice, gql } from "../helpers/graphql.js";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { createRelease, download, hex, makeImage, release, stateOf, upload } from "./helpers.js";

const t = useTestServer({ RATE_LIMIT_MAX: "100000" });
const SIZE = 700_000; // three chunk rows, the last one partial
const image = makeImage("2.0.0", SIZE);
let device: { id: string; token: string };
let bystander: { id: string; token: string };
let releaseId: string;

beforeAll(async () => {
  device = await addDevice(t.base, t.alice);
  bystander = await addDevice(t.base, t.alice);
  const fw = await upload(t.base, t.alice.accessToken, "dl", "2.0.0", image);
  expect(fw.status).toBe(201);
  // Nothing is offered yet: 304, whatever the device runs.
  expect((await download(t.base, device.token, { "x-ESP32-version": "1.0.0" })).status).toBe(304);
  const created = await createRelease(t.base, t.alice, { firmwareId: fw.body.id, deviceIds: [device.id] });
  releaseId = created.data.createRelease.id;
  await eventually("the offer in the device's state", async () => (await t.server.services.state.get(device.id)).desired.ota);
});

describe("GET /firmware/update", () => {
  it("carries the offer in the device's state, as the contract says", async () => {
    const state = await t.server.services.state.get(device.id);
    expect(state.desired.ota!.value).toEqual({
      version: "2.0.0",
      size: SIZE,
      sha256: hex("sha256", image),
      md5: hex("md5", image),
      url: "/firmware/update",
      release: releaseId,
    });
  });

  it("answers 304 to a device offered nothing, and to one that runs the offered version", async () => {
    expect((await download(t.base, bystander.token)).status).toBe(304);
    const same = await download(t.base, device.token, { "x-ESP32-version": "2.0.0" });
    expect(same.status).toBe(304);
    expect(same.bytes.length).toBe(0);
    expect((await fetch(`${t.base}/firmware/update?device_token=${device.token}&version=2.0.0`)).status).toBe(304);
  });

  it("streams the whole image with its length, digests and ETag, and marks the device DOWNLOADING", async () => {
    const res = await download(t.base, device.token, { "x-ESP32-version": "1.0.0" });
    expect(res.status).toBe(200);
    expect(res.bytes.equals(image)).toBe(true);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(res.headers.get("x-md5")).toBe(hex("md5", image));
    expect(res.headers.get("x-sha256")).toBe(hex("sha256", image));
    expect(res.headers.get("etag")).toBe(`"${hex("sha256", image)}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    await eventually("DOWNLOADING", async () => stateOf(await release(t.base, t.alice, releaseId), device.id) === "DOWNLOADING");
  });

  it("resumes with Range: exactly the remaining bytes (206), a closed range, and 416 past the end", async () => {
    const cut = 300_001; // inside the second chunk row
    const rest = await download(t.base, device.token, { range: `bytes=${cut}-` });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe(`bytes ${cut}-${SIZE - 1}/${SIZE}`);
    expect(rest.headers.get("content-length")).toBe(String(SIZE - cut));
    expect(rest.bytes.equals(image.subarray(cut))).toBe(true);
    const middle = await download(t.base, device.token, { range: "bytes=262000-262300" });
    expect(middle.status).toBe(206);
    expect(middle.bytes.equals(image.subarray(262000, 262301))).toBe(true);
    const tail = await download(t.base, device.token, { range: "bytes=-10" });
    expect(tail.bytes.equals(image.subarray(SIZE - 10))).toBe(true);
    const past = await download(t.base, device.token, { range: `bytes=${SIZE}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${SIZE}`);
  });

  it("takes the token as Bearer or query too; a wrong token is 403, and so is the old one after a rotation", async () => {
    expect((await fetch(`${t.base}/firmware/update`, { headers: { authorization: `Bearer ${device.token}` } })).status).toBe(200);
    expect((await fetch(`${t.base}/firmware/update?device_token=${device.token}`)).status).toBe(200);
    const wrong = await fetch(`${t.base}/firmware/update`, { headers: { "x-device-token": "wrong" } });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ detail: "Invalid device token" });
    expect((await fetch(`${t.base}/firmware/update`)).status).toBe(403);
    const rotated = await gql(t.base, `mutation ($id: ID!) { rotateDeviceToken(id: $id) { token } }`, { id: device.id }, t.alice.accessToken);
    const fresh = rotated.data.rotateDeviceToken.token as string;
    expect((await download(t.base, device.token)).status).toBe(403);
    expect((await download(t.base, fresh)).status).toBe(200);
    device.token = fresh;
  });

  it("serves many downloads at once, each complete and correct", async () => {
    const want = hex("md5", image);
    const digests = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const res = await fetch(`${t.base}/firmware/update`, { headers: { "x-device-token": device.token } });
        const md5 = createHash("md5");
        for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) md5.update(piece);
        return md5.digest("hex");
      }),
    );
    expect(new Set(digests)).toEqual(new Set([want]));
  });
});
