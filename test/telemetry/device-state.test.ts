import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Topic, type Payloads } from "../../src/platform/event-bus.js";
import { FakeFirmware } from "../helpers/firmware.js";
import { createDevice, createUser, http, sleep, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let owner: string;
let fw: FakeFirmware;
let changes: Array<Payloads[Topic.DeviceStateChanged]>;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  owner = await createUser(server);
  server.services.bus.subscribe(Topic.DeviceStateChanged, (event) => changes.push(event));
});
afterAll(() => server.stop());

beforeEach(async () => {
  const d = await createDevice(server, owner);
  fw = new FakeFirmware(server.url, d.id, d.token);
  changes = [];
  await fw.report({ temperature: 21 });
});

const info = () => server.services.directory.findById(fw.id).then((d) => d!);
const command = async (values: Record<string, unknown>) => server.services.state.setDesired(await info(), values as never);
const stateOf = () => server.services.state.get(fw.id);
/** The delivery mark is written in the background; real firmware's next request comes later anyway. */
const settle = () => sleep(50);

describe("device state: reported, desired, merged", () => {
  it("a command given between a poll and a stale report survives the report and is confirmed by the device", async () => {
    await fw.poll(); // nothing pending yet
    await command({ v0: 1 });
    const stale = await fw.report(); // the device still says v0 = 0: it has not seen the command
    expect(stale.data.v0).toBe(1); // merged: the command is laid over the stale value
    expect((await stateOf()).desired.v0?.value).toBe(1);

    const polled = await fw.poll();
    expect(polled.v0).toBe(1);
    expect(fw.pins.v0).toBe(1);
    await settle();

    await fw.report(); // the device now reports the value it applied
    const state = await stateOf();
    expect(state.desired).toEqual({});
    expect(state.reported.v0).toBe(1);
    const confirmation = changes.find((c) => c.confirmed.includes("v0"));
    expect(confirmation?.state.desired).toEqual({});
    expect(confirmation?.state.reported.v0).toBe(1);
  });

  it("a change the device makes itself after receiving the command wins and clears the command", async () => {
    await command({ v0: 1 });
    await fw.poll();
    expect(fw.pins.v0).toBe(1);
    await settle();
    fw.flip("v0", 0); // physical switch
    await fw.report();
    const state = await stateOf();
    expect(state.desired).toEqual({});
    expect(state.reported.v0).toBe(0);
    expect(changes.at(-1)?.overridden).toEqual(["v0"]);
    expect((await fw.poll()).v0).toBe(0);
    expect(fw.pins.v0).toBe(0);
  });

  it("two commands in a row on one pin: the device gets the last one", async () => {
    await command({ v1: 1 });
    await command({ v1: 0 });
    await command({ v1: 1 });
    expect((await fw.poll()).v1).toBe(1);
    await settle();
    // A second command after the first was delivered is new: a report of the first value is stale.
    await command({ v1: 0 });
    await fw.report(); // still v1 = 1 from the delivered command
    expect((await stateOf()).desired.v1?.value).toBe(0);
    expect((await fw.poll()).v1).toBe(0);
    await settle();
    await fw.report();
    expect((await stateOf()).desired).toEqual({});
    expect((await stateOf()).reported.v1).toBe(0);
  });

  it("true/false from the app is confirmed by 1/0 from the device", async () => {
    await command({ v0: true });
    await fw.poll();
    await settle();
    await fw.report();
    expect((await stateOf()).desired).toEqual({});
  });

  it("legacy led follows the contract: updated_data.led, else updated_data.v0, else 0", async () => {
    const d = await createDevice(server, owner);
    const post = (data: Record<string, unknown>) => http(server.url, "POST", "/telemetry", { body: { device_token: d.token, data } });
    expect((await post({ temperature: 1 })).body.led).toBe(0);
    const info2 = (await server.services.directory.findById(d.id))!;
    await server.services.state.setDesired(info2, { v0: 1 });
    // No led key: led is the merged v0, so a pending command reaches firmware that only reads led.
    const pending = await post({ temperature: 2 });
    expect(pending.body).toMatchObject({ led: 1, updated_data: { temperature: 2, v0: 1 } });
    // With an led key in the state, that key is the answer.
    const withLed = await post({ led: 0 });
    expect(withLed.body).toMatchObject({ led: 0, updated_data: { v0: 1, led: 0 } });
  });

  it("keeps every report in history, stale ones included", async () => {
    await command({ v0: 1 });
    await fw.report();
    await fw.report();
    const { rows } = await server.services.pool.query(`SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1 AND key = 'v0'`, [fw.id]);
    expect(rows[0].n).toBe(3); // beforeEach's report and these two
  });

  it("commands and reports for many devices at once are all kept (one batch, many devices)", async () => {
    const devices = await Promise.all(Array.from({ length: 40 }, () => createDevice(server, owner)));
    const firmwares = devices.map((d) => new FakeFirmware(server.url, d.id, d.token));
    await Promise.all(firmwares.map((f, i) => f.report({ n: i })));
    await Promise.all(devices.map(async (d, i) => server.services.state.setDesired((await server.services.directory.findById(d.id))!, { v1: i })));
    const polled = await Promise.all(firmwares.map((f) => f.poll()));
    polled.forEach((data, i) => expect(data).toMatchObject({ n: i, v1: i }));
  });
});
