import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import type { TLSSocket } from "node:tls";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startServer } from "../../src/app/server.js";
import { loadConfig } from "../../src/platform/config.js";
import { eventually } from "../helpers/fixture.js";
import { createTestDatabase, startTestServer, type TestServer } from "../helpers/server.js";
import { execute } from "../helpers/ws.js";

const dir = mkdtempSync(join(tmpdir(), "thingsnxt-tls-"));
const certFile = join(dir, "fullchain.pem");
const keyFile = join(dir, "privkey.pem");

interface Pair {
  cert: string;
  key: string;
  fingerprint: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl as an operator would. */
function selfSigned(name: string): Pair {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=${name}`, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
  ], { stdio: "pipe" }); // prettier-ignore
  const pem = readFileSync(cert, "utf8");
  return { cert: pem, key: readFileSync(key, "utf8"), fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** What a certbot renewal does: new files at the same paths. */
function install(pair: Pair): void {
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key);
}

const first = selfSigned("first");
const second = selfSigned("second");
const ca = [first.cert, second.cert]; // the client trusts both; the fingerprint tells which one was served

interface Answer {
  status: number;
  body: any;
  /** SHA-256 fingerprint of the certificate the server presented on this (new) connection. */
  fingerprint: string;
}

/** One request on a new TLS connection (no agent: no kept-alive socket, no resumed session). */
function get(base: string, path: string, options: { method?: string; body?: unknown; token?: string } = {}): Promise<Answer> {
  return new Promise((done, fail) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpsRequest(
      `${base}${path}`,
      {
        method: options.method ?? "GET",
        ca,
        agent: false,
        headers: {
          ...(payload ? { "content-type": "application/json" } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => done({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, fingerprint }));
      },
    );
    req.on("error", fail);
    req.end(payload);
  });
}

/** graphql-ws over wss://, trusting the test CA. */
function wss(base: string, token: string): Client {
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  return createClient({
    url: `${base.replace(/^https/, "wss")}/graphql`,
    webSocketImpl: TrustingWebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
  });
}

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`;

describe("HTTPS and WSS on PORT (in process)", () => {
  let server: TestServer;
  const logs: Array<Record<string, any>> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, any>);
      done();
    },
  });
  let token: string;
  let userId: string;
  let client: Client | undefined;

  beforeAll(async () => {
    install(first);
    server = await startTestServer({ LOG_LEVEL: "info", TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }, undefined, logStream);
    const registered = await get(server.url, "/graphql", {
      method: "POST",
      body: { query: REGISTER, variables: { input: { email: "tls@example.com", username: "tls", password: "Sup3rSecret!" } } },
    });
    token = registered.body.data.register.accessToken;
    userId = registered.body.data.register.user.id;
  });
  afterAll(async () => {
    await client?.dispose();
    await server?.stop();
  });

  it("serves HTTPS: the URL says so and GET /health answers over TLS with the configured certificate", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await get(server.url, "/health");
    expect(health.status).toBe(200);
    expect(health.fingerprint).toBe(first.fingerprint);
    expect(logs.find((l) => l.msg === "ThingsNXT listening")).toMatchObject({ tls: { fingerprint256: first.fingerprint } });
  });

  it("refuses plain HTTP on the same port", async () => {
    await expect(fetch(server.url.replace("https:", "http:") + "/health")).rejects.toThrow();
  });

  it("serves graphql-ws over wss://", async () => {
    client = wss(server.url, token);
    expect(await execute(client, "{ me { id } }")).toEqual({ data: { me: { id: userId } } });
  });

  it("reloads the certificate for new connections; an open socket stays up", async () => {
    install(second);
    expect(server.reloadTls()).toBe(true);
    const after = await get(server.url, "/health/live");
    expect(after).toMatchObject({ status: 200, fingerprint: second.fingerprint });
    expect(logs.find((l) => l.msg === "TLS certificate reloaded")).toMatchObject({ level: 30, fingerprint256: second.fingerprint });
    expect(await execute(client!, "{ me { id } }")).toEqual({ data: { me: { id: userId } } });
  });

  it.each([
    ["a file that is not PEM", () => writeFileSync(certFile, "not a certificate"), "TLS_CERT_FILE (" + certFile + ") holds no PEM certificate"],
    ["a key of another certificate", () => (writeFileSync(certFile, first.cert), writeFileSync(keyFile, second.key)), "is not the key of the certificate"],
    ["a missing file", () => rmSync(keyFile), `TLS_KEY_FILE (${keyFile}) cannot be read: ENOENT`],
  ])("keeps the old certificate when the new files are bad: %s", async (_what, damage, message) => {
    install(second);
    damage();
    const before = logs.length;
    expect(server.reloadTls()).toBe(false);
    expect(logs.slice(before)).toEqual([
      expect.objectContaining({ level: 50, msg: "TLS certificate not reloaded: the previous one stays in use", err: expect.stringContaining(message) }),
    ]);
    expect(await get(server.url, "/health")).toMatchObject({ status: 200, fingerprint: second.fingerprint });
  });
});

describe("TLS settings at start", () => {
  it("needs both files or neither, naming them", () => {
    expect(() => loadConfig({ TLS_CERT_FILE: certFile })).toThrow("TLS_CERT_FILE is set but TLS_KEY_FILE is not");
    expect(() => loadConfig({ TLS_KEY_FILE: keyFile })).toThrow("TLS_KEY_FILE is set but TLS_CERT_FILE is not");
    expect(loadConfig({}).tls).toBeUndefined();
    expect(loadConfig({ TLS_CERT_FILE: " a.pem ", TLS_KEY_FILE: "b.pem" }).tls).toEqual({ certFile: "a.pem", keyFile: "b.pem" });
  });

  it.each([
    [{ TLS_CERT_FILE: join(dir, "missing.pem"), TLS_KEY_FILE: keyFile }, `TLS_CERT_FILE (${join(dir, "missing.pem")}) cannot be read: ENOENT`],
    [{ TLS_CERT_FILE: certFile, TLS_KEY_FILE: dir }, `TLS_KEY_FILE (${dir}) cannot be read: EISDIR`],
  ])("refuses an unreadable file before touching the database: %o", async (env, message) => {
    install(first);
    // No database listens on port 1: a start that got past the files would fail differently.
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", ...env });
    await expect(startServer(config)).rejects.toMatchObject({ name: "ConfigError", message });
  });
});

/** `npm start` as a child process: SIGHUP is wired in src/main.ts, exit codes are the entry point's. */
describe("npm start with TLS", () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const tsx = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await db?.drop();
  });

  function start(env: Record<string, string>): { child: ChildProcess; lines: Array<Record<string, any>>; stderr: () => string; exit: Promise<number | null> } {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.json") };
    for (const name of ["PORT", "HOST", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "EMBEDDED_PG_PORT", "SMTP_URL"]) delete childEnv[name];
    Object.assign(childEnv, { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", DATABASE_URL: db.url, MQTT_PORT: "off" }, env);
    const proc = spawn(process.execPath, ["--import", tsx, join(root, "src/main.ts")], { cwd: dir, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    const lines: Array<Record<string, any>> = [];
    let stderr = "";
    let rest = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split("\n");
      rest = parts.pop()!;
      for (const line of parts) if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, any>);
    });
    proc.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number | null>((done) => proc.once("exit", (code) => done(code)));
    return { child: proc, lines, stderr: () => stderr, exit };
  }

  it("rereads the certificate on SIGHUP; a bad one on SIGHUP is logged and the old one kept", async () => {
    install(first);
    const run = start({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
    child = run.child;
    const listening = await eventually("the server to listen", () => run.lines.find((l) => l.msg === "ThingsNXT listening"), 30_000);
    const base = `https://127.0.0.1:${listening.port as number}`;
    expect((await get(base, "/health/live")).fingerprint).toBe(first.fingerprint);

    install(second);
    child.kill("SIGHUP");
    await eventually("the reload line", () => run.lines.find((l) => l.msg === "TLS certificate reloaded"));
    expect(await get(base, "/health/live")).toMatchObject({ status: 200, fingerprint: second.fingerprint });

    writeFileSync(certFile, "garbage");
    child.kill("SIGHUP");
    await eventually("the refused reload", () => run.lines.find((l) => l.level === 50 && /not reloaded/.test(l.msg)));
    expect(await get(base, "/health/live")).toMatchObject({ status: 200, fingerprint: second.fingerprint });

    child.kill("SIGTERM");
    expect(await run.exit).toBe(0);
  }, 60_000);

  it("refuses an unreadable file with one line naming the setting, exit code 2", async () => {
    install(first);
    const run = start({ TLS_CERT_FILE: join(dir, "nope.pem"), TLS_KEY_FILE: keyFile });
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toBe(`Configuration error: TLS_CERT_FILE (${join(dir, "nope.pem")}) cannot be read: ENOENT\n`);
  }, 30_000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
