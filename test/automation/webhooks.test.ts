import { describe, expect, it } from "vitest";
import { SecretBox } from "../../src/platform/secret-box.js";
import { addDevice, codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { ISO_RE, startTestServer } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const HOOK = `id url events deviceId device { id } active secretPreview createdAt updatedAt`;
const CREATE = `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { ${HOOK} } } }`;
const UPDATE = `mutation ($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) { ${HOOK} } }`;
const DELETE = `mutation ($id: ID!) { deleteWebhook(id: $id) }`;
const LIST = `{ webhooks { ${HOOK} } }`;

const create = (a: Account, input: Record<string, unknown>) =>
  gql(ctx.base, CREATE, { i: { url: "https://example.com/hook", events: ["all"], ...input } }, a.accessToken);
async function created(a: Account, input: Record<string, unknown> = {}) {
  const res = await create(a, input);
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.createWebhook as { secret: string; webhook: any };
}
const row = async (id: string) => (await ctx.server.services.pool.query(`SELECT w.*, w::text AS whole FROM webhooks w WHERE id = $1`, [id])).rows[0];

describe("createWebhook and webhooks", () => {
  it("generates a secret, shows it once, then only a preview; the column holds no plain secret", async () => {
    const a = await signUp(ctx.base);
    const { secret, webhook } = await created(a, { events: ["telemetry_update", "device_offline"] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(webhook).toEqual({
      id: expect.any(String),
      url: "https://example.com/hook",
      events: ["telemetry_update", "device_offline"],
      deviceId: null,
      device: null,
      active: true,
      secretPreview: `whsec_…${secret.slice(-4)}`,
      createdAt: expect.stringMatching(ISO_RE),
      updatedAt: expect.stringMatching(ISO_RE),
    });
    expect((await gql(ctx.base, LIST, {}, a.accessToken)).data.webhooks).toEqual([webhook]);
    expect(codeOf(await gql(ctx.base, `{ webhooks { secret } }`, {}, a.accessToken))).toBe("GRAPHQL_VALIDATION_FAILED");

    const stored = await row(webhook.id);
    expect(stored.secret_sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    const body = secret.slice("whsec_".length);
    for (const form of [body, Buffer.from(body, "base64url").toString("hex"), Buffer.from(body, "base64url").toString("base64")]) {
      expect(stored.whole).not.toContain(form.slice(0, 16));
    }
    expect(await ctx.server.services.webhooks.secretOf(webhook.id)).toBe(secret);
    expect(await ctx.server.services.webhooks.secretOf(crypto.randomUUID())).toBeUndefined();
    expect(await ctx.server.services.webhooks.secretOf("nope")).toBeUndefined();
  });

  it("keeps a given secret, encrypted, and two equal secrets seal differently", async () => {
    const a = await signUp(ctx.base);
    const secret = "my-own-secret-0123456789";
    const one = await created(a, { secret, url: "http://10.0.0.5:8080/in?x=1", active: false });
    const two = await created(a, { secret });
    expect(one.secret).toBe(secret);
    expect(one.webhook).toMatchObject({ url: "http://10.0.0.5:8080/in?x=1", active: false, secretPreview: "…6789" });
    expect((await row(one.webhook.id)).whole).not.toContain(secret);
    expect((await row(one.webhook.id)).secret_sealed).not.toBe((await row(two.webhook.id)).secret_sealed);
    expect(await ctx.server.services.webhooks.secretOf(one.webhook.id)).toBe(secret);
    for (const bad of ["short", "has a space in it!!", "x".repeat(257), "ünïcödé-secret-0123"]) {
      expect((await create(a, { secret: bad })).errors![0]).toMatchObject({
        message: "secret must be 16 to 256 printable ASCII characters without spaces",
        extensions: { code: "BAD_USER_INPUT" },
      });
    }
  });

  it.each([
    ["ftp://example.com/x", "url must start with http:// or https://"],
    ["javascript:alert(1)", "url must start with http:// or https://"],
    ["example.com/hook", "url must start with http:// or https://"],
    ["http:example.com", "url must start with http:// or https://"],
    ["http://", "url must name a host"],
    ["https:///path", "url must name a host"],
    ["http://exa mple.com/", "url is not a valid URL"],
    ["http://:80/", "url is not a valid URL"],
    [`https://example.com/${"x".repeat(2029)}`, "url must be at most 2048 characters"],
  ])("refuses the url %#: %s", async (url, message) => {
    const res = await create(ctx.alice, { url });
    expect(res.errors![0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
  });

  it("accepts a 2048-character url, trims it, and de-duplicates events", async () => {
    const url = `https://example.com/${"x".repeat(2028)}`;
    expect(url).toHaveLength(2048);
    const { webhook } = await created(ctx.alice, { url: ` ${url} `, events: ["device_online", "device_online", "all"] });
    expect(webhook).toMatchObject({ url, events: ["device_online", "all"] });
  });

  it("refuses unknown or no events", async () => {
    for (const events of [["telemetry"], ["TELEMETRY_UPDATE"], ["all", "nope"]]) {
      expect(codeOf(await create(ctx.alice, { events }))).toBe("BAD_USER_INPUT");
    }
    expect(
      codeOf(await gql(ctx.base, `mutation { createWebhook(input: { url: "https://e.com", events: [bogus] }) { secret } }`, {}, ctx.alice.accessToken)),
    ).toBe("GRAPHQL_VALIDATION_FAILED");
    expect((await create(ctx.alice, { events: [] })).errors![0]).toMatchObject({
      message: "events must name at least one event",
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it("filters by one of the caller's devices; another user's or a malformed device id is NOT_FOUND", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const { webhook } = await created(a, { deviceId: d.id, events: ["state_confirmed", "schedule_executed"] });
    expect(webhook).toMatchObject({ deviceId: d.id, device: { id: d.id } });
    const foreign = await addDevice(ctx.base, ctx.bob);
    for (const deviceId of [foreign.id, "not-a-uuid", crypto.randomUUID()]) {
      expect((await create(a, { deviceId, url: "ftp://bad" })).errors![0]).toMatchObject({ message: "Device not found", extensions: { code: "NOT_FOUND" } });
    }
    // The device's deletion takes its webhooks with it.
    await gql(ctx.base, `mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: d.id }, a.accessToken);
    expect((await gql(ctx.base, LIST, {}, a.accessToken)).data.webhooks).toEqual([]);
  });

  it("allows 50 webhooks per account, even when they are created at once", async () => {
    const a = await signUp(ctx.base);
    const results = await Promise.all(Array.from({ length: 55 }, (_, i) => create(a, { url: `https://example.com/${i}` })));
    expect(results.filter((r) => r.data?.createWebhook).length).toBe(50);
    const refused = results.filter((r) => r.errors);
    expect(refused).toHaveLength(5);
    expect(refused[0]!.errors![0]).toMatchObject({ message: "at most 50 webhooks per account; delete one first", extensions: { code: "CONFLICT" } });
    expect((await gql(ctx.base, LIST, {}, a.accessToken)).data.webhooks).toHaveLength(50);
  });

  it("lists only the caller's webhooks and needs a token", async () => {
    const { webhook } = await created(ctx.alice);
    expect((await gql(ctx.base, LIST, {}, ctx.bob.accessToken)).data.webhooks.map((w: any) => w.id)).not.toContain(webhook.id);
    expect(codeOf(await gql(ctx.base, LIST))).toBe("UNAUTHENTICATED");
    expect(codeOf(await gql(ctx.base, CREATE, { i: { url: "https://e.com", events: ["all"] } }))).toBe("UNAUTHENTICATED");
  });
});

describe("updateWebhook and deleteWebhook", () => {
  it("changes each field, keeps absent ones, and null deviceId removes the filter", async () => {
    const a = await signUp(ctx.base);
    const d = await addDevice(ctx.base, a);
    const { webhook, secret } = await created(a);
    await new Promise((r) => setTimeout(r, 5));
    const up = (i: Record<string, unknown>) => gql(ctx.base, UPDATE, { id: webhook.id, i }, a.accessToken);
    const changed = (await up({ url: "http://hooks.example.org/x", events: ["device_offline"], deviceId: d.id, active: false })).data.updateWebhook;
    expect(changed).toEqual({
      ...webhook,
      url: "http://hooks.example.org/x",
      events: ["device_offline"],
      deviceId: d.id,
      device: { id: d.id },
      active: false,
      updatedAt: expect.stringMatching(ISO_RE),
    });
    expect(changed.updatedAt > webhook.updatedAt).toBe(true);
    expect((await up({})).data.updateWebhook).toEqual(changed);
    expect((await up({ deviceId: null })).data.updateWebhook).toMatchObject({ deviceId: null, device: null, url: "http://hooks.example.org/x", active: false });
    expect(await ctx.server.services.webhooks.secretOf(webhook.id)).toBe(secret);

    const rotated = (await up({ secret: "a-brand-new-secret-4321" })).data.updateWebhook;
    expect(rotated.secretPreview).toBe("…4321");
    expect(await ctx.server.services.webhooks.secretOf(webhook.id)).toBe("a-brand-new-secret-4321");
    expect((await row(webhook.id)).whole).not.toContain("a-brand-new-secret");
  });

  it("refuses bad input without changing anything", async () => {
    const a = await signUp(ctx.base);
    const { webhook } = await created(a);
    const up = (i: Record<string, unknown>) => gql(ctx.base, UPDATE, { id: webhook.id, i }, a.accessToken);
    expect((await up({ url: "ftp://x" })).errors![0]).toMatchObject({
      message: "url must start with http:// or https://",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect(codeOf(await up({ events: [] }))).toBe("BAD_USER_INPUT");
    expect(codeOf(await up({ events: ["nope"] }))).toBe("BAD_USER_INPUT");
    expect(codeOf(await up({ secret: "short" }))).toBe("BAD_USER_INPUT");
    expect(codeOf(await up({ deviceId: (await addDevice(ctx.base, ctx.bob)).id }))).toBe("NOT_FOUND");
    expect((await gql(ctx.base, LIST, {}, a.accessToken)).data.webhooks).toEqual([webhook]);
  });

  it("another user's or a malformed webhook id is NOT_FOUND, checked before the input", async () => {
    const { webhook } = await created(ctx.alice);
    for (const id of [webhook.id, "not-a-uuid", crypto.randomUUID()]) {
      const up = await gql(ctx.base, UPDATE, { id, i: { url: "ftp://invalid", active: false } }, ctx.bob.accessToken);
      expect(up.errors![0]).toMatchObject({ message: "Webhook not found", extensions: { code: "NOT_FOUND" } });
      expect((await gql(ctx.base, DELETE, { id }, ctx.bob.accessToken)).errors![0]).toMatchObject({
        message: "Webhook not found",
        extensions: { code: "NOT_FOUND" },
      });
    }
    expect((await gql(ctx.base, LIST, {}, ctx.alice.accessToken)).data.webhooks).toContainEqual(webhook);
  });

  it("deletes once, then NOT_FOUND", async () => {
    const a = await signUp(ctx.base);
    const { webhook } = await created(a);
    expect((await gql(ctx.base, DELETE, { id: webhook.id }, a.accessToken)).data).toEqual({ deleteWebhook: true });
    expect(codeOf(await gql(ctx.base, DELETE, { id: webhook.id }, a.accessToken))).toBe("NOT_FOUND");
    expect(codeOf(await gql(ctx.base, UPDATE, { id: webhook.id, i: { active: true } }, a.accessToken))).toBe("NOT_FOUND");
    expect(await ctx.server.services.webhooks.secretOf(webhook.id)).toBeUndefined();
  });
});

describe("secret encryption", () => {
  it("SecretBox round-trips and refuses a altered value or another key", () => {
    const box = new SecretBox("k".repeat(32), "webhook-secrets");
    const sealed = box.seal("whsec_abc");
    expect(box.open(sealed)).toBe("whsec_abc");
    expect(box.seal("whsec_abc")).not.toBe(sealed);
    const raw = Buffer.from(sealed.slice(3), "base64url");
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1.${raw.toString("base64url")}`)).toThrow();
    expect(() => new SecretBox("x".repeat(32), "webhook-secrets").open(sealed)).toThrow();
    expect(() => new SecretBox("k".repeat(32), "other-purpose").open(sealed)).toThrow();
    expect(() => box.open("v2.abc")).toThrow("unknown format");
  });

  it("without SECRET_KEY the key material is generated once and kept in the database", async () => {
    const { rows } = await ctx.server.services.pool.query(`SELECT value FROM app_secrets WHERE name = 'webhook-key'`);
    expect(rows).toHaveLength(1);
    const { webhook, secret } = await created(ctx.alice);
    // Another process on the same database decrypts what this one sealed.
    const second = await startTestServer({}, ctx.server.databaseUrl);
    try {
      expect(await second.services.webhooks.secretOf(webhook.id)).toBe(secret);
    } finally {
      await second.close();
    }
  });

  it("with SECRET_KEY the key comes from it, and another key cannot decrypt", async () => {
    const keyed = await startTestServer({ SECRET_KEY: "s".repeat(40) });
    try {
      const a = await signUp(keyed.url);
      const res = await gql(keyed.url, CREATE, { i: { url: "https://example.com", events: ["all"] } }, a.accessToken);
      const { secret, webhook } = res.data.createWebhook;
      expect(await keyed.services.webhooks.secretOf(webhook.id)).toBe(secret);
      const { rows } = await keyed.services.pool.query(
        `SELECT secret_sealed, (SELECT count(*)::int FROM app_secrets WHERE name = 'webhook-key') AS generated FROM webhooks`,
      );
      expect(rows[0].generated).toBe(0);
      expect(new SecretBox("s".repeat(40), "webhook-secrets").open(rows[0].secret_sealed)).toBe(secret);
      expect(() => new SecretBox("t".repeat(40), "webhook-secrets").open(rows[0].secret_sealed)).toThrow();
    } finally {
      await keyed.stop();
    }
  });
});
