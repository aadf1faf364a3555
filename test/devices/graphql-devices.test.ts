import { describe, expect, it } from "vitest";
import { FakeFirmware } from "../helpers/firmware.js";
import { addDevice, codeOf, gql } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const DEVICE = `id name type location status lastSeenAt createdAt state { deviceId reported desired merged reportedAt version }`;

describe("devices", () => {
  it("creates a device, shows its token once, and lists it", async () => {
    const res = await gql(
      ctx.base,
      `mutation ($i: CreateDeviceInput!) { createDevice(input: $i) { token device { ${DEVICE} } } }`,
      { i: { name: " Kitchen ", type: "esp32", location: "home" } },
      ctx.alice.accessToken,
    );
    const { token, device } = res.data.createDevice;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(device).toEqual({
      id: expect.any(String),
      name: "Kitchen",
      type: "esp32",
      location: "home",
      status: "OFFLINE",
      lastSeenAt: null,
      createdAt: expect.stringMatching(/Z$/),
      state: { deviceId: device.id, reported: {}, desired: {}, merged: {}, reportedAt: null, version: 0 },
    });
    const { rows } = await ctx.server.services.pool.query(`SELECT token_hash FROM devices WHERE id = $1`, [device.id]);
    expect(rows[0].token_hash).not.toContain(token);
    const list = await gql(ctx.base, `{ devices { id name } }`, {}, ctx.alice.accessToken);
    expect(list.data.devices).toContainEqual({ id: device.id, name: "Kitchen" });
    expect((await gql(ctx.base, `{ devices { id } }`, {}, ctx.bob.accessToken)).data.devices).not.toContainEqual({ id: device.id });
  });

  it("shows reported, desired and merged state and goes ONLINE with the device", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const fw = new FakeFirmware(ctx.base, d.id, d.token);
    await fw.report({ temperature: 21.5 });
    const set = await gql(
      ctx.base,
      `mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v1: 1 }) { desired merged version } }`,
      { id: d.id },
      ctx.alice.accessToken,
    );
    expect(set.data.setDeviceState).toMatchObject({ desired: { v1: 1 }, merged: { v0: 0, v1: 1, temperature: 21.5 } });
    await fw.poll();
    await new Promise((r) => setTimeout(r, 50));
    const got = await gql(
      ctx.base,
      `query ($id: ID!) { device(id: $id) { status lastSeenAt state { reported desired reportedAt } } }`,
      { id: d.id },
      ctx.alice.accessToken,
    );
    expect(got.data.device.status).toBe("ONLINE");
    expect(got.data.device.state.desired).toEqual({ v1: 1 });
    expect(got.data.device.state.reported).toMatchObject({ v0: 0, v1: 0, temperature: 21.5 });
    expect(fw.pins.v1).toBe(1);
    await fw.report();
    const after = await gql(ctx.base, `query ($id: ID!) { device(id: $id) { state { desired reported } } }`, { id: d.id }, ctx.alice.accessToken);
    expect(after.data.device.state.desired).toEqual({});
  });

  it("updates name, type and location with validation", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const q = `mutation ($id: ID!, $i: UpdateDeviceInput!) { updateDevice(id: $id, input: $i) { name type location } }`;
    expect((await gql(ctx.base, q, { id: d.id, i: { name: "Garage", location: null } }, ctx.alice.accessToken)).data.updateDevice).toEqual({
      name: "Garage",
      type: null,
      location: null,
    });
    const bad = await gql(ctx.base, q, { id: d.id, i: { name: "" } }, ctx.alice.accessToken);
    expect(bad.errors![0]).toMatchObject({ message: "name must be 1 to 100 characters", extensions: { code: "BAD_USER_INPUT" } });
    expect(codeOf(await gql(ctx.base, q, { id: d.id, i: { name: "x".repeat(101) } }, ctx.alice.accessToken))).toBe("BAD_USER_INPUT");
  });

  it("rotates the token: the old one fails at once", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    expect((await http(ctx.base, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(200);
    const res = await gql(ctx.base, `mutation ($id: ID!) { rotateDeviceToken(id: $id) { token device { id } } }`, { id: d.id }, ctx.alice.accessToken);
    expect(res.data.rotateDeviceToken.device.id).toBe(d.id);
    expect((await http(ctx.base, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(403);
    expect((await http(ctx.base, "GET", `/telemetry/latest?device_token=${res.data.rotateDeviceToken.token}`)).status).toBe(200);
  });

  it("deletes a device with its state and history", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    await http(ctx.base, "POST", `/devices/${d.id}/telemetry`, { body: { device_token: d.token, data: { t: 1 } } });
    expect((await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: d.id }, ctx.alice.accessToken)).data.deleteDevice).toBe(true);
    const { rows } = await ctx.server.services.pool.query(
      `SELECT (SELECT count(*) FROM telemetry WHERE device_id = $1) + (SELECT count(*) FROM device_state WHERE device_id = $1) AS n`,
      [d.id],
    );
    expect(Number(rows[0].n)).toBe(0);
    expect(codeOf(await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: d.id }, ctx.alice.accessToken))).toBe("NOT_FOUND");
  });

  it("another user's device is null or NOT_FOUND everywhere, and is left untouched", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const t = ctx.bob.accessToken;
    expect((await gql(ctx.base, `query ($id: ID!) { device(id: $id) { id } }`, { id: d.id }, t)).data.device).toBeNull();
    for (const [q, v] of [
      [`mutation ($id: ID!) { updateDevice(id: $id, input: { name: "pwned" }) { id } }`, { id: d.id }],
      [`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: d.id }],
      [`mutation ($id: ID!) { rotateDeviceToken(id: $id) { token } }`, { id: d.id }],
      [`mutation ($id: ID!) { setDeviceState(deviceId: $id, desired: { v0: 1 }) { version } }`, { id: d.id }],
    ] as const) {
      const res = await gql(ctx.base, q, v, t);
      expect(res.errors![0]).toMatchObject({ message: "Device not found", extensions: { code: "NOT_FOUND" } });
    }
    const mine = await gql(ctx.base, `query ($id: ID!) { device(id: $id) { name state { desired } } }`, { id: d.id }, ctx.alice.accessToken);
    expect(mine.data.device).toEqual({ name: "esp32", state: { desired: {} } });
    expect((await http(ctx.base, "GET", `/telemetry/latest?device_token=${d.token}`)).status).toBe(200);
  });

  it("malformed ids are null or NOT_FOUND, never an internal error", async () => {
    for (const id of ["nope", "1", "00000000-0000-0000-0000-000000000000", "' OR 1=1 --"]) {
      expect((await gql(ctx.base, `query ($id: ID!) { device(id: $id) { id } }`, { id }, ctx.alice.accessToken)).data.device).toBeNull();
      expect(codeOf(await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id }, ctx.alice.accessToken))).toBe("NOT_FOUND");
    }
  });
});

describe("commands", () => {
  it("setDevicesState is all or nothing", async () => {
    const a1 = await addDevice(ctx.base, ctx.alice);
    const a2 = await addDevice(ctx.base, ctx.alice);
    const b1 = await addDevice(ctx.base, ctx.bob);
    const q = `mutation ($ids: [ID!]!) { setDevicesState(deviceIds: $ids, desired: { v0: 0 }) { deviceId desired } }`;
    const mixed = await gql(ctx.base, q, { ids: [a1.id, b1.id, a2.id] }, ctx.alice.accessToken);
    expect(codeOf(mixed)).toBe("NOT_FOUND");
    const state = await gql(ctx.base, `query ($id: ID!) { device(id: $id) { state { desired } } }`, { id: a1.id }, ctx.alice.accessToken);
    expect(state.data.device.state.desired).toEqual({});
    const ok = await gql(ctx.base, q, { ids: [a1.id, a2.id] }, ctx.alice.accessToken);
    expect(ok.data.setDevicesState).toEqual([
      { deviceId: a1.id, desired: { v0: 0 } },
      { deviceId: a2.id, desired: { v0: 0 } },
    ]);
    expect(codeOf(await gql(ctx.base, q, { ids: [] }, ctx.alice.accessToken))).toBe("BAD_USER_INPUT");
  });

  it("refuses unacceptable desired keys and values naming the key", async () => {
    const d = await addDevice(ctx.base, ctx.alice);
    const q = `mutation ($id: ID!, $d: JSONObject!) { setDeviceState(deviceId: $id, desired: $d) { version } }`;
    expect((await gql(ctx.base, q, { id: d.id, d: { "bad key": 1 } }, ctx.alice.accessToken)).errors![0]).toMatchObject({
      message: 'key "bad key" is not acceptable: keys are 1-64 characters of A-Z a-z 0-9 _ . : -',
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect(codeOf(await gql(ctx.base, q, { id: d.id, d: {} }, ctx.alice.accessToken))).toBe("BAD_USER_INPUT");
    expect(codeOf(await gql(ctx.base, q, { id: d.id, d: [1] }, ctx.alice.accessToken))).toBe("BAD_USER_INPUT");
  });

  it("needs a signed-in caller", async () => {
    const res = await gql(ctx.base, `{ devices { id } }`);
    expect(res.errors![0]).toMatchObject({ extensions: { code: "UNAUTHENTICATED" } });
  });
});
