import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogMailer } from "../../src/platform/mailer.js";
import { loadConfig } from "../../src/platform/config.js";
import { eventually } from "../helpers/fixture.js";
import { gql, signUp } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** Every log line of one server, raw (what an operator's terminal or journal would hold) and parsed. */
function capture(): { raw: string[]; lines: Array<Record<string, any>>; stream: Writable } {
  const raw: string[] = [];
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, any>);
      }
      done();
    },
  });
  return { raw, lines, stream };
}

const REQUEST = `mutation ($e: String!) { requestPasswordReset(email: $e) }`;
const RESET = `mutation ($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }`;
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`;
const RESET_URL = "https://iot.example.com/reset-password?token=";

const printed = capture();
const dropped = capture();
let printing: TestServer;
let dropping: TestServer;

beforeAll(async () => {
  [printing, dropping] = await Promise.all([
    startTestServer({ LOG_LEVEL: "info", SMTP_URL: "log:", PASSWORD_RESET_URL: RESET_URL }, undefined, printed.stream),
    // debug: request lines too, so the assertion covers every line the server writes.
    startTestServer({ LOG_LEVEL: "debug", PASSWORD_RESET_URL: RESET_URL }, undefined, dropped.stream),
  ]);
});
afterAll(async () => {
  await Promise.all([printing?.stop(), dropping?.stop()]);
});

describe("SMTP_URL=log:", () => {
  it("prints the whole reset mail at info level, and its link works", async () => {
    const a = await signUp(printing.url);
    expect((await gql(printing.url, REQUEST, { e: a.email })).data).toEqual({ requestPasswordReset: true });
    const line = await eventually("the mail in the log", () => printed.lines.find((l) => l.mail?.to === a.email));
    expect(line).toMatchObject({ level: 30, msg: "mail (SMTP_URL=log:, not sent)", mail: { to: a.email, subject: "Reset your ThingsNXT password" } });
    const link = new RegExp(`${RESET_URL.replace(/[.?]/g, "\\$&")}([A-Za-z0-9_-]{43})`).exec(line.mail.text as string);
    expect(link, line.mail.text).not.toBeNull();
    expect(line.mail.text).toContain(a.username);

    // The link from the log is the real one: it resets the password.
    expect((await gql(printing.url, RESET, { t: link![1], p: "N3wPassword" })).data).toEqual({ resetPassword: true });
    expect((await gql(printing.url, LOGIN, { input: { login: a.username, password: "N3wPassword" } })).data.login.accessToken).toEqual(expect.any(String));
  });

  it("says at start that mails go to the log", () => {
    expect(printed.lines.some((l) => l.level === 40 && /SMTP_URL=log: mails are written to this log/.test(l.msg))).toBe(true);
  });

  it("is the only non-URL value SMTP_URL takes", () => {
    expect(loadConfig({ SMTP_URL: " log: " }).smtpUrl).toBe("log:");
    expect(() => loadConfig({ SMTP_URL: "log:stdout" })).toThrow("SMTP_URL must start with smtp:// or smtps://");
  });
});

describe("no SMTP_URL", () => {
  it("logs recipient and subject with how to get the mail, and no secret", async () => {
    const a = await signUp(dropping.url);
    expect((await gql(dropping.url, REQUEST, { e: a.email })).data).toEqual({ requestPasswordReset: true });
    const line = await eventually("the dropped-mail line", () => dropped.lines.find((l) => l.mailTo === a.email));
    expect(line).toMatchObject({ level: 30, subject: "Reset your ThingsNXT password" });
    expect(line.msg).toContain("SMTP_URL is unset");
    expect(line.msg).toContain("SMTP_URL=log:");
    expect(line.msg).toContain("npm run admin -- reset-password");
    expect(line.mail).toBeUndefined();

    // The token exists (the mailer kept it in memory) and appears in no line, raw or escaped.
    const sent = (dropping.services.mailer as LogMailer).sent.find((m) => m.to === a.email)!;
    const token = /token=([A-Za-z0-9_-]{43})/.exec(sent.text)![1]!;
    const all = dropped.raw.join("\n");
    expect(all).not.toContain(token);
    expect(all).not.toContain(RESET_URL);
    expect(dropped.raw.length).toBeGreaterThan(3); // the capture did see the request lines
  });
});
