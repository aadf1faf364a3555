import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogMailer } from "../../src/platform/mailer.js";
import { gql, signUp } from "../helpers/graphql.js";
import { sleep, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({});
});
afterAll(() => server.stop());

describe("email alerts", () => {
  it("mail a copy of each notification to users who enabled email, and to nobody else", async () => {
    const mailer = server.services.mailer as LogMailer;
    const wants = await signUp(server.url);
    const quiet = await signUp(server.url);
    await gql(server.url, `mutation { updateMe(input: { notificationSettings: { email: true } }) { id } }`, {}, wants.accessToken);
    const before = mailer.sent.length;
    await server.services.notifications.notify(wants.userId, { type: "device_offline", title: "Kitchen is offline", message: "No contact for a while." });
    await server.services.notifications.notify(quiet.userId, { type: "device_offline", title: "Garage is offline", message: "No contact." });
    for (let i = 0; i < 30 && mailer.sent.length === before; i++) await sleep(50);
    await sleep(100);
    expect(mailer.sent.slice(before)).toEqual([{ to: wants.email, subject: "ThingsNXT: Kitchen is offline", text: "No contact for a while." }]);
  });

  it("send nothing when notifications are off altogether", async () => {
    const mailer = server.services.mailer as LogMailer;
    const off = await signUp(server.url);
    await gql(server.url, `mutation { updateMe(input: { notificationSettings: { enabled: false, email: true } }) { id } }`, {}, off.accessToken);
    const before = mailer.sent.length;
    expect(await server.services.notifications.notify(off.userId, { type: "info", title: "t", message: "m" })).toBeNull();
    await sleep(200);
    expect(mailer.sent.length).toBe(before);
  });
});
