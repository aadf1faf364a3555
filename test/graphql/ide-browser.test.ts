import { existsSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, http, startTestServer, type TestServer } from "../helpers/server.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const ASSETS = [
  ["react.production.min.js", "text/javascript; charset=utf-8"],
  ["react-dom.production.min.js", "text/javascript; charset=utf-8"],
  ["graphiql.min.js", "text/javascript; charset=utf-8"],
  ["graphiql.min.css", "text/css; charset=utf-8"],
  ["ide.js", "text/javascript; charset=utf-8"],
  ["ide.css", "text/css; charset=utf-8"],
  ["favicon.svg", "image/svg+xml"],
] as const;
const html = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

describe("GraphQL IDE over HTTP", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_MAX: "2" });
  });
  afterAll(() => server?.stop());

  it("serves the page to browsers, with only same-origin scripts and styles and a 'self' CSP", async () => {
    const res = await http(server.url, "GET", "/graphql", { headers: html });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(ASSETS.length);
    for (const url of urls) expect(url).toMatch(/^\/graphql\/ide\/[\w.-]+\?v=[\w-]{16}$/);
    expect(res.text).not.toMatch(/<script>|<style>|\son\w+=/); // nothing inline
  });

  it("keeps GraphQL over GET for API clients on the same path", async () => {
    const res = await http(server.url, "GET", "/graphql?query=%7B__typename%7D", {
      // Apollo's CSRF prevention wants a preflight-forcing header on GET.
      headers: { accept: "application/json", "apollo-require-preflight": "true" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { __typename: "Query" } });
  });

  it.each(ASSETS)("serves %s with its type, a year of caching, an ETag, 304 and gzip", async (name, type) => {
    const path = `/graphql/ide/${name}`;
    const res = await fetch(server.url + path, { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBeGreaterThan(100);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]{16}"$/);
    const again = await fetch(server.url + path, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    if (body.length > 1024) {
      const zipped = await fetch(server.url + path, { headers: { "accept-encoding": "gzip" } });
      expect(zipped.headers.get("content-encoding")).toBe("gzip");
      expect(Buffer.from(await zipped.arrayBuffer()).equals(body)).toBe(true); // fetch inflates it
    }
  });

  it("never rate limits the page or its assets, but counts other paths under /graphql/ide/", async () => {
    for (let i = 0; i < 5; i++) {
      const page = await http(server.url, "GET", "/graphql", { headers: html });
      expect(page.status).toBe(200);
      expect(page.headers.get("ratelimit-limit")).toBeNull();
      for (const [name] of ASSETS) {
        const res = await fetch(`${server.url}/graphql/ide/${name}`);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        expect(res.headers.get("ratelimit-limit")).toBeNull();
      }
    }
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await http(server.url, "GET", "/graphql/ide/nope.js")).status);
    expect(statuses).toEqual([404, 404, 429]);
  });
});

describe.skipIf(!hasChromium)("GraphQL IDE in Chromium (skipped without /usr/bin/chromium: .ci/run installs Debian's chromium)", () => {
  let server: TestServer;
  let userDir: string;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const requests: Array<{ method: string; url: string; headers: Record<string, string>; body: string | null }> = [];
  const failed: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    origin = new URL(server.url).origin;
    userDir = await mkdtemp(join(tmpdir(), "thingsnxt-ide-"));
    context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      // As root, in a closed network: no sandbox, and none of Chromium's own calls home.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    context.on("request", (r) => requests.push({ method: r.method(), url: r.url(), headers: r.headers(), body: r.postData() }));
    context.on("requestfailed", (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    // A request the CSP blocks never becomes a request: count the violations too.
    await context.addInitScript({
      content: `window.cspViolations = [];
        document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const response = await page.goto(`${server.url}/graphql`);
    expect(response?.status()).toBe(200);
    await page.locator(".graphiql-query-editor .CodeMirror").waitFor({ timeout: 20_000 });
  });

  afterAll(async () => {
    await context?.close();
    if (userDir) await rm(userDir, { recursive: true, force: true });
    await server?.stop();
  });

  /** Replaces an editor's text by typing into it, as a user does. */
  async function typeInto(editor: string, text: string): Promise<void> {
    await page.locator(`${editor} .CodeMirror-lines`).click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Backspace");
    await page.keyboard.type(text);
    await page.keyboard.press("Escape"); // closes an autocomplete list, if one opened
    const value = await page.locator(`${editor} .CodeMirror`).evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
    expect(value).toBe(text);
  }

  const runAndRead = async (expected: string) => {
    await page.getByRole("button", { name: /^Execute query/ }).click();
    await expect.poll(() => page.locator(".graphiql-response").innerText(), { timeout: 10_000 }).toContain(expected);
  };

  it("runs { __typename } typed in the editor and shows the result", async () => {
    await typeInto(".graphiql-query-editor", "{ __typename }");
    await runAndRead('"__typename": "Query"');
    const posted = requests.filter((r) => r.method === "POST" && r.url === `${origin}/graphql`);
    expect(posted.map((r) => JSON.parse(r.body ?? "{}").query)).toContain("{ __typename }");

    const shot = join(userDir, "ide.png");
    await page.screenshot({ path: process.env.IDE_SCREENSHOT ?? shot });
    expect((await stat(process.env.IDE_SCREENSHOT ?? shot)).size).toBeGreaterThan(10_000);
  });

  it("sends the Authorization header set in the Headers tab", async () => {
    const userId = await createUser(server, "ideuser");
    const { token } = await server.services.sessions.issue(userId);
    await page.getByRole("button", { name: "Headers" }).click();
    await typeInto(".graphiql-editor-tool .graphiql-editor:not(.hidden)", `{"Authorization": "Bearer ${token}"}`);
    await typeInto(".graphiql-query-editor", "{ me { username } }");
    await runAndRead('"username": "ideuser"');
    const sent = requests.find((r) => r.method === "POST" && r.body?.includes("me { username }"));
    expect(sent?.headers.authorization).toBe(`Bearer ${token}`);
  });

  it("opens the settings dialog (its scroll lock injects a <style>, which the CSP must allow)", async () => {
    await page.getByRole("button", { name: "Open settings dialog" }).click();
    await page.getByRole("dialog").waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
  });

  it("made every request to this server only, loaded every asset, and broke no CSP rule", async () => {
    expect(requests.length).toBeGreaterThan(7);
    for (const r of requests) expect(new URL(r.url).origin, r.url).toBe(origin);
    expect(failed).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    const loaded = requests.filter((r) => r.method === "GET").map((r) => new URL(r.url).pathname);
    for (const [name] of ASSETS.filter(([n]) => n !== "favicon.svg")) expect(loaded).toContain(`/graphql/ide/${name}`);
  });
});
