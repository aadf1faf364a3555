import { describe, expect, it } from "vitest";
import { addDevice, codeOf, gql } from "../helpers/graphql.js";
import { eventually, useTestServer } from "../helpers/fixture.js";
import { createRelease, hex, makeImage, upload } from "./helpers.js";

const LIMIT = 600 * 1024;
const CHUNK = 256 * 1024;
const t = useTestServer({ MAX_FIRMWARE_BYTES: String(LIMIT), RATE_LIMIT_MAX: "100000" });

const stored = async () => {
  const { rows } = await t.server.services.pool.query<{ f: number; c: number }>(
    `SELECT (SELECT count(*) FROM firmwares)::int AS f, (SELECT count(*) FROM firmware_chunks)::int AS c`,
  );
  return rows[0]!;
};

describe("POST /firmware", () => {
  it("stores an image in chunks and answers its digests", async () => {
    const image = makeImage("1.0.0", LIMIT - 10);
    const res = await upload(t.base, t.alice.accessToken, "greenhouse", "1.0.0", image);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      title: "greenhouse",
      version: "1.0.0",
      size: image.length,
      sha256: hex("sha256", image),
      md5: hex("md5", image),
      createdAt: expect.stringMatching(/Z$/),
    });
    const { rows } = await t.server.services.pool.query<{ data: Buffer }>(`SELECT data FROM firmware_chunks WHERE firmware_id = $1 ORDER BY seq`, [
      res.body.id,
    ]);
    expect(rows.map((r) => r.data.length)).toEqual([CHUNK, CHUNK, image.length - 2 * CHUNK]);
    expect(Buffer.concat(rows.map((r) => r.data)).equals(image)).toBe(true);
  });

  it("takes an image without a descriptor, and a short one", async () => {
    expect((await upload(t.base, t.alice.accessToken, "nodesc", "0.1", makeImage("x", 5000, { descriptor: false }))).status).toBe(201);
    expect((await upload(t.base, t.alice.accessToken, "tiny", "0.1", Buffer.from([0xe9, 1, 2, 3]))).status).toBe(201);
  });

  it("refuses, storing nothing: too large (413), not an image or another version (400), a duplicate (409), no user (401)", async () => {
    const before = await stored();
    const big = await upload(t.base, t.alice.accessToken, "big", "1", makeImage("1", LIMIT + 1));
    expect(big).toEqual({ status: 413, body: { detail: `The image is larger than ${LIMIT} bytes (MAX_FIRMWARE_BYTES)` } });
    const notImage = await upload(t.base, t.alice.accessToken, "png", "1", makeImage("1", 5000, { magic: 0x89 }));
    expect(notImage).toEqual({ status: 400, body: { detail: "Not an ESP32 application image: the first byte must be 0xE9" } });
    const mismatch = await upload(t.base, t.alice.accessToken, "mismatch", "2.0.0", makeImage("1.9.9", 5000));
    expect(mismatch).toEqual({ status: 400, body: { detail: 'The image\'s app descriptor carries version "1.9.9", not "2.0.0"' } });
    expect((await upload(t.base, t.alice.accessToken, "", "1", makeImage("1", 5000))).status).toBe(400);
    expect((await upload(t.base, t.alice.accessToken, "noversion", "", makeImage("1", 5000))).status).toBe(400);
    expect((await upload(t.base, t.alice.accessToken, "empty", "1", Buffer.alloc(0))).status).toBe(400);
    const dup = await upload(t.base, t.alice.accessToken, "greenhouse", "1.0.0", makeImage("1.0.0", 5000));
    expect(dup).toEqual({ status: 409, body: { detail: 'Firmware "greenhouse" version "1.0.0" exists already' } });
    expect((await upload(t.base, undefined, "anon", "1", makeImage("1", 5000))).status).toBe(401);
    expect((await upload(t.base, "not-a-token", "anon", "1", makeImage("1", 5000))).status).toBe(401);
    expect(await stored()).toEqual(before);
  });

  it("refuses an oversized body sent without a length while streaming, keeping nothing of it", async () => {
    const before = await stored();
    const image = makeImage("1", LIMIT * 2);
    const body = new ReadableStream({
      start(controller) {
        for (let at = 0; at < image.length; at += 16 * 1024) controller.enqueue(image.subarray(at, at + 16 * 1024));
        controller.close();
      },
    });
    const res = await fetch(`${t.base}/firmware?title=chunked&version=1`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", authorization: `Bearer ${t.alice.accessToken}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await stored()).toEqual(before);
  });

  it("refuses other content types (415)", async () => {
    const res = await fetch(`${t.base}/firmware?title=j&version=1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.alice.accessToken}` },
      body: "{}",
    });
    expect(res.status).toBe(415);
  });
});

describe("firmware in GraphQL", () => {
  it("lists and reads the caller's images; another user's id is NOT_FOUND", async () => {
    const up = await upload(t.base, t.alice.accessToken, "listed", "3.0.0", makeImage("3.0.0", 3000));
    const list = await gql(t.base, `{ firmwares { id title version size sha256 md5 createdAt } }`, {}, t.alice.accessToken);
    expect(list.data.firmwares).toContainEqual({ ...up.body });
    const one = await gql(t.base, `query ($id: ID!) { firmware(id: $id) { id version } }`, { id: up.body.id }, t.alice.accessToken);
    expect(one.data.firmware).toEqual({ id: up.body.id, version: "3.0.0" });
    expect((await gql(t.base, `{ firmwares { id } }`, {}, t.bob.accessToken)).data.firmwares).toEqual([]);
    expect(codeOf(await gql(t.base, `query ($id: ID!) { firmware(id: $id) { id } }`, { id: up.body.id }, t.bob.accessToken))).toBe("NOT_FOUND");
    expect(codeOf(await gql(t.base, `mutation ($id: ID!) { deleteFirmware(id: $id) }`, { id: up.body.id }, t.bob.accessToken))).toBe("NOT_FOUND");
  });

  it("refuses deleteFirmware while a release uses it, deletes it (and its chunks) once the release ended", async () => {
    const up = await upload(t.base, t.alice.accessToken, "used", "4.0.0", makeImage("4.0.0", LIMIT - 100));
    const device = await addDevice(t.base, t.alice);
    const created = await createRelease(t.base, t.alice, { firmwareId: up.body.id, deviceIds: [device.id] });
    const releaseId = created.data.createRelease.id as string;
    const del = `mutation ($id: ID!) { deleteFirmware(id: $id) }`;
    const refused = await gql(t.base, del, { id: up.body.id }, t.alice.accessToken);
    expect(codeOf(refused)).toBe("CONFLICT");
    const cancelled = await gql(t.base, `mutation ($id: ID!) { cancelRelease(id: $id) { status } }`, { id: releaseId }, t.alice.accessToken);
    expect(cancelled.data.cancelRelease.status).toBe("CANCELLED");
    expect((await gql(t.base, del, { id: up.body.id }, t.alice.accessToken)).data.deleteFirmware).toBe(true);
    const { rows } = await t.server.services.pool.query(`SELECT 1 FROM firmware_chunks WHERE firmware_id = $1`, [up.body.id]);
    expect(rows).toEqual([]);
    await eventually("the cancelled offer withdrawn", async () => !("ota" in (await t.server.services.state.get(device.id)).desired));
  });

  it("refuses a release of another user's firmware or devices (NOT_FOUND), and a device in two open releases (CONFLICT)", async () => {
    const mine = await upload(t.base, t.alice.accessToken, "rel", "5.0.0", makeImage("5.0.0", 3000));
    const theirs = await upload(t.base, t.bob.accessToken, "rel", "5.0.0", makeImage("5.0.0", 3000));
    const myDevice = await addDevice(t.base, t.alice);
    const theirDevice = await addDevice(t.base, t.bob);
    expect(codeOf(await createRelease(t.base, t.alice, { firmwareId: theirs.body.id, deviceIds: [myDevice.id] }))).toBe("NOT_FOUND");
    expect(codeOf(await createRelease(t.base, t.alice, { firmwareId: mine.body.id, deviceIds: [myDevice.id, theirDevice.id] }))).toBe("NOT_FOUND");
    expect(codeOf(await createRelease(t.base, t.alice, { firmwareId: mine.body.id, deviceIds: [myDevice.id], rolloutPercent: 0 }))).toBe("BAD_USER_INPUT");
    const first = await createRelease(t.base, t.alice, { firmwareId: mine.body.id, deviceIds: [myDevice.id] });
    expect(first.data.createRelease).toMatchObject({ status: "ACTIVE", counts: { targeted: 1 } });
    expect(codeOf(await createRelease(t.base, t.alice, { firmwareId: mine.body.id, deviceIds: [myDevice.id] }))).toBe("CONFLICT");
    const releaseId = first.data.createRelease.id;
    for (const op of ["release(id: $id) { id }"]) {
      expect(codeOf(await gql(t.base, `query ($id: ID!) { ${op} }`, { id: releaseId }, t.bob.accessToken))).toBe("NOT_FOUND");
    }
    for (const op of ["pauseRelease", "resumeRelease", "cancelRelease"]) {
      expect(codeOf(await gql(t.base, `mutation ($id: ID!) { ${op}(id: $id) { id } }`, { id: releaseId }, t.bob.accessToken))).toBe("NOT_FOUND");
    }
    expect((await gql(t.base, `{ releases { id } }`, {}, t.bob.accessToken)).data.releases).toEqual([]);
  });
});
