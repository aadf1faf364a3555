import { describe, expect, it } from "vitest";
import { runAdmin } from "../../src/app/admin.js";
import { gql } from "../helpers/graphql.js";
import { http } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

/** `npm run admin -- <command>` on the configured database, while the server runs on it. */
const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

async function admin(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(
    args,
    { DATABASE_URL: ctx.server.databaseUrl, LOG_LEVEL: "silent" },
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err };
}

const LOGIN = `mutation ($l: String!, $p: String!) { login(input: { login: $l, password: $p }) { accessToken } }`;

describe("the admin command", () => {
  it("creates a user who can log in, and resets the password, ending the old sessions", async () => {
    const created = await admin("create-user", "ops@example.com", "ops_user", "Sup3rSecret!");
    expect(created.code).toBe(0);
    expect(created.out[0]).toMatch(/^created user ops_user <ops@example.com> id [0-9a-f-]{36}$/);
    const login = await gql(ctx.base, LOGIN, { l: "ops_user", p: "Sup3rSecret!" });
    const token = login.data.login.accessToken as string;

    const reset = await admin("reset-password", "OPS@example.com");
    expect(reset.code).toBe(0);
    const password = reset.out.find((l) => l.startsWith("password: "))!.slice("password: ".length);
    expect((await gql(ctx.base, LOGIN, { l: "ops_user", p: "Sup3rSecret!" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await gql(ctx.base, LOGIN, { l: "ops_user", p: password })).data.login.accessToken).toEqual(expect.any(String));
    expect((await gql(ctx.base, `{ me { id } }`, {}, token)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("lists users and devices, and rotates a device token", async () => {
    const { alice } = ctx;
    const device = await ctx.server.services.devices.create(alice.userId, { name: "kitchen" });
    const users = await admin("list-users");
    expect(users.out.some((l) => l.includes(alice.username) && l.includes("devices: 1"))).toBe(true);
    const devices = await admin("list-devices", alice.username);
    expect(devices.out).toEqual([expect.stringMatching(new RegExp(`^${device.id}  kitchen  offline  owner ${alice.username}  last seen never$`))]);

    const rotated = await admin("rotate-token", device.id);
    const token = rotated.out[0]!.split(": ").pop()!;
    const report = (t: string) => http(ctx.base, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: t, data: { v: 1 } } });
    expect((await report(token)).status).toBe(200);
    expect((await report(device.token)).status).toBe(403);
  });

  it("refuses unknown commands and ids with a clear line and a non-zero code", async () => {
    expect((await admin("frobnicate")).code).toBe(2);
    const missing = await admin("rotate-token", "00000000-0000-4000-8000-000000000000");
    expect(missing).toMatchObject({ code: 1, err: ["Device not found"] });
    expect((await admin("create-user", "not-an-email", "x_user")).err[0]).toMatch(/email/);
  });
});
