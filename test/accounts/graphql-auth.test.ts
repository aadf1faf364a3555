import { describe, expect, it } from "vitest";
import { LogMailer } from "../../src/platform/mailer.js";
import { codeOf, gql, PASSWORD, signUp } from "../helpers/graphql.js";
import { http, startTestServer, type TestServer } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const ME = `{ me { id username email fullName phone bio role notificationSettings { enabled email push } } }`;
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken tokenType user { id username } } }`;
const REFRESH = `mutation ($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`;
const LOGOUT = `mutation { logout { message tokensDeleted alreadyLoggedOut } }`;

describe("register and login", () => {
  it("registers, then logs in by email or username in any case", async () => {
    const a = await signUp(ctx.base, "Alice_1");
    const me = await gql(ctx.base, ME, {}, a.accessToken);
    expect(me.data.me).toEqual({
      id: a.userId,
      username: "Alice_1",
      email: "Alice_1@example.com",
      fullName: "Test User",
      phone: null,
      bio: null,
      role: "user",
      notificationSettings: { enabled: true, email: false, push: true },
    });
    for (const login of ["alice_1@EXAMPLE.com", "ALICE_1"]) {
      const res = await gql(ctx.base, LOGIN, { input: { login, password: PASSWORD } });
      expect(res.data.login).toMatchObject({ tokenType: "Bearer", user: { id: a.userId, username: "Alice_1" } });
    }
    const { rows } = await ctx.server.services.pool.query(`SELECT password_hash FROM users WHERE id = $1`, [a.userId]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  });

  it("refuses a wrong password or unknown login with the same message", async () => {
    const a = await signUp(ctx.base);
    const wrong = await gql(ctx.base, LOGIN, { input: { login: a.username, password: "Wrong1234" } });
    const unknown = await gql(ctx.base, LOGIN, { input: { login: "nobody-here", password: "Wrong1234" } });
    expect(codeOf(wrong)).toBe("UNAUTHENTICATED");
    expect(wrong.errors![0]!.message).toBe("Wrong login or password");
    expect(unknown.errors![0]).toMatchObject({ message: "Wrong login or password", extensions: { code: "UNAUTHENTICATED" } });
  });

  it.each([
    [{ password: "short1A" }, "password must be 8 to 72 characters"],
    [{ password: "a".repeat(70) + "A1xx" }, "password must be 8 to 72 characters"],
    [{ password: "alllower123" }, "password needs a lower case letter, an upper case letter and a digit"],
    [{ password: "NoDigitsHere" }, "password needs a lower case letter, an upper case letter and a digit"],
    [{ username: "ab" }, "username must be 3 to 32 characters of A-Z a-z 0-9 _ -"],
    [{ username: "bad name" }, "username must be 3 to 32 characters of A-Z a-z 0-9 _ -"],
    [{ email: "not-an-email" }, "email is not a valid address"],
  ])("refuses %o: %s", async (override, message) => {
    const input = {
      email: `x${Math.random().toString(36).slice(2)}@example.com`,
      username: `u${Math.random().toString(36).slice(2, 10)}`,
      password: PASSWORD,
      ...override,
    };
    const res = await gql(ctx.base, `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`, { input });
    expect(res.errors![0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
  });

  it("keeps email and username unique regardless of case", async () => {
    const a = await signUp(ctx.base);
    const input = (o: object) => ({ input: { email: "fresh@example.com", username: "freshname", password: PASSWORD, ...o } });
    const q = `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`;
    const e = await gql(ctx.base, q, input({ email: a.email.toUpperCase() }));
    expect(e.errors![0]).toMatchObject({ message: "email is already registered", extensions: { code: "CONFLICT" } });
    const u = await gql(ctx.base, q, input({ username: a.username.toUpperCase() }));
    expect(u.errors![0]).toMatchObject({ message: "username is already taken", extensions: { code: "CONFLICT" } });
  });

  it("needs a token for me, and says why a token is refused", async () => {
    expect((await gql(ctx.base, ME)).errors![0]).toMatchObject({
      message: "Sign in: this operation needs an access token",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect((await gql(ctx.base, ME, {}, "garbage")).errors![0]).toMatchObject({ message: "Access token is invalid", extensions: { code: "UNAUTHENTICATED" } });
  });
});

describe("refresh tokens", () => {
  it("rotate on every use; presenting a used one revokes its whole family", async () => {
    const a = await signUp(ctx.base);
    const first = await gql(ctx.base, REFRESH, { t: a.refreshToken });
    const second = first.data.refreshToken;
    expect(second.refreshToken).not.toBe(a.refreshToken);
    expect((await gql(ctx.base, ME, {}, second.accessToken)).data.me.id).toBe(a.userId);
    // The old one again: a thief or a replay. The family (including `second`) dies.
    const replay = await gql(ctx.base, REFRESH, { t: a.refreshToken });
    expect(replay.errors![0]).toMatchObject({
      message: "Refresh token was already used; every session of it has been revoked",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(codeOf(await gql(ctx.base, REFRESH, { t: second.refreshToken }))).toBe("UNAUTHENTICATED");
    // A different login (another family) is unaffected.
    const other = await gql(ctx.base, LOGIN, { input: { login: a.username, password: PASSWORD } });
    expect((await gql(ctx.base, REFRESH, { t: other.data.login.refreshToken })).data.refreshToken.accessToken).toBeTruthy();
    const { rows } = await ctx.server.services.pool.query(`SELECT token_hash FROM refresh_tokens WHERE user_id = $1`, [a.userId]);
    expect(rows.every((r) => r.token_hash !== a.refreshToken && /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });
});

describe("logout", () => {
  it("revokes refresh tokens and the access token, and is idempotent", async () => {
    const a = await signUp(ctx.base);
    const res = await gql(ctx.base, LOGOUT, {}, a.accessToken);
    expect(res.data.logout).toEqual({ message: "Logged out", tokensDeleted: 1, alreadyLoggedOut: false });
    expect((await gql(ctx.base, ME, {}, a.accessToken)).errors![0]).toMatchObject({
      message: "Access token was revoked: log in again",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(codeOf(await gql(ctx.base, REFRESH, { t: a.refreshToken }))).toBe("UNAUTHENTICATED");
    const again = await gql(ctx.base, LOGOUT, {}, a.accessToken);
    expect(again.data.logout).toEqual({ message: "Already logged out", tokensDeleted: 0, alreadyLoggedOut: true });
    const none = await gql(ctx.base, LOGOUT);
    expect(none.data.logout.alreadyLoggedOut).toBe(true);
  });

  it("POST /logout keeps the old field names", async () => {
    const a = await signUp(ctx.base);
    const res = await http(ctx.base, "POST", "/logout", { headers: { authorization: `Bearer ${a.accessToken}` } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Logged out", tokens_deleted: 1, already_logged_out: false });
    const again = await http(ctx.base, "POST", "/logout", { headers: { authorization: `Bearer ${a.accessToken}` } });
    expect(again.body).toEqual({ message: "Already logged out", tokens_deleted: 0, already_logged_out: true });
  });
});

describe("profile", () => {
  it("updates fields and notification settings, refusing a taken username", async () => {
    const a = await signUp(ctx.base);
    const b = await signUp(ctx.base);
    const q = `mutation ($input: UpdateMeInput!) { updateMe(input: $input) { fullName phone bio notificationSettings { enabled email push } } }`;
    const res = await gql(ctx.base, q, { input: { fullName: "Ada", phone: "+41 79 000", bio: "maker", notificationSettings: { email: true } } }, a.accessToken);
    expect(res.data.updateMe).toEqual({ fullName: "Ada", phone: "+41 79 000", bio: "maker", notificationSettings: { enabled: true, email: true, push: true } });
    const taken = await gql(ctx.base, q, { input: { username: b.username } }, a.accessToken);
    expect(codeOf(taken)).toBe("CONFLICT");
  });

  it("deleteMe removes the account and everything it owns, and its tokens stop working", async () => {
    const a = await signUp(ctx.base);
    const dev = await gql(ctx.base, `mutation { createDevice(input: {name: "d"}) { token device { id } } }`, {}, a.accessToken);
    const { id, token } = { id: dev.data.createDevice.device.id, token: dev.data.createDevice.token };
    expect((await http(ctx.base, "POST", `/devices/${id}/telemetry`, { body: { device_token: token, data: { t: 1 } } })).status).toBe(200);
    expect((await gql(ctx.base, `mutation { deleteMe }`, {}, a.accessToken)).data.deleteMe).toBe(true);
    const left = await ctx.server.services.pool.query(
      `SELECT (SELECT count(*) FROM users WHERE id = $1) + (SELECT count(*) FROM devices WHERE owner_id = $1)
            + (SELECT count(*) FROM telemetry WHERE device_id = $2) + (SELECT count(*) FROM refresh_tokens WHERE user_id = $1) AS n`,
      [a.userId, id],
    );
    expect(Number(left.rows[0].n)).toBe(0);
    expect(codeOf(await gql(ctx.base, ME, {}, a.accessToken))).toBe("UNAUTHENTICATED");
    expect((await http(ctx.base, "GET", `/telemetry/latest?device_token=${token}`)).status).toBe(403);
  });
});

describe("password reset", () => {
  const REQUEST = `mutation ($e: String!) { requestPasswordReset(email: $e) }`;
  const RESET = `mutation ($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }`;
  const mailer = () => ctx.server.services.mailer as LogMailer;

  it("answers the same whether or not the email exists, and mails only real accounts", async () => {
    const a = await signUp(ctx.base);
    const before = mailer().sent.length;
    const known = await gql(ctx.base, REQUEST, { e: a.email.toUpperCase() });
    const unknown = await gql(ctx.base, REQUEST, { e: "nobody@example.com" });
    expect(known).toEqual(unknown);
    expect(known.data).toEqual({ requestPasswordReset: true });
    await new Promise((r) => setTimeout(r, 50));
    expect(mailer().sent.length).toBe(before + 1);
    expect(mailer().sent.at(-1)!.to).toBe(a.email);
  });

  it("resets once with the mailed token, revokes every session, and the token is stored hashed", async () => {
    const a = await signUp(ctx.base);
    await gql(ctx.base, REQUEST, { e: a.email });
    await new Promise((r) => setTimeout(r, 50));
    const token = /token=([A-Za-z0-9_-]+)/.exec(mailer().sent.at(-1)!.text)![1]!;
    const { rows } = await ctx.server.services.pool.query(`SELECT token_hash FROM password_resets WHERE user_id = $1`, [a.userId]);
    expect(rows[0].token_hash).not.toContain(token);

    expect(codeOf(await gql(ctx.base, RESET, { t: token, p: "weak" }))).toBe("BAD_USER_INPUT"); // rules apply; token not used up
    expect((await gql(ctx.base, RESET, { t: token, p: "N3wPassword" })).data.resetPassword).toBe(true);
    const again = await gql(ctx.base, RESET, { t: token, p: "N3wPassword2" });
    expect(again.errors![0]).toMatchObject({ message: "The reset link is invalid, expired or already used", extensions: { code: "BAD_USER_INPUT" } });
    expect(codeOf(await gql(ctx.base, ME, {}, a.accessToken))).toBe("UNAUTHENTICATED");
    expect(codeOf(await gql(ctx.base, REFRESH, { t: a.refreshToken }))).toBe("UNAUTHENTICATED");
    expect(codeOf(await gql(ctx.base, LOGIN, { input: { login: a.username, password: PASSWORD } }))).toBe("UNAUTHENTICATED");
    const fresh = await gql(ctx.base, LOGIN, { input: { login: a.username, password: "N3wPassword" } });
    expect((await gql(ctx.base, ME, {}, fresh.data.login.accessToken)).data.me.id).toBe(a.userId);
  });

  it("refuses an expired token", async () => {
    const a = await signUp(ctx.base);
    await gql(ctx.base, REQUEST, { e: a.email });
    await new Promise((r) => setTimeout(r, 50));
    const token = /token=([A-Za-z0-9_-]+)/.exec(mailer().sent.at(-1)!.text)![1]!;
    await ctx.server.services.pool.query(`UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [a.userId]);
    expect(codeOf(await gql(ctx.base, RESET, { t: token, p: "N3wPassword" }))).toBe("BAD_USER_INPUT");
  });
});

describe("access token expiry", () => {
  it("an expired access token is refused with a reason", async () => {
    const short = await startTestServer({}, ctx.server.databaseUrl);
    try {
      const a = await signUp(short.url);
      expect((await gql(short.url, ME, {}, a.accessToken)).data.me.id).toBe(a.userId);
      // A token signed with the ctx.server's key that expired a second ago.
      const expired = await forgeExpired(short, a.userId);
      expect((await gql(short.url, ME, {}, expired)).errors![0]).toMatchObject({
        message: "Access token expired: refresh it",
        extensions: { code: "UNAUTHENTICATED" },
      });
    } finally {
      await short.close();
    }
  });
});

async function forgeExpired(s: TestServer, userId: string): Promise<string> {
  const { SignJWT } = await import("jose");
  const { rows } = await s.services.pool.query(`SELECT value FROM app_secrets WHERE name = 'jwt'`);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setJti(crypto.randomUUID())
    .setIssuedAt(now - 100)
    .setExpirationTime(now - 1)
    .sign(new TextEncoder().encode(rows[0].value));
}
