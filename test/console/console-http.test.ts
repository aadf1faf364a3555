import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

const BUILT = existsSync(new URL("../../console/dist/index.html", import.meta.url));
const html = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
const INDEX = (version: string) => JSON.stringify({ message: "ThingsNXT API", version, docs: "/docs", health: "/health", graphql: "/graphql" });

describe("web console over HTTP", () => {
  let server: TestServer;
  beforeAll(async () => {
    // console/dist is made by `npm ci` (the prepare script); without it this suite cannot say anything.
    expect(BUILT, "console/dist is missing: run `npm run console:build`").toBe(true);
    server = await startTestServer({ RATE_LIMIT_MAX: "3" });
  });
  afterAll(() => server?.stop());

  it("keeps the JSON index byte for byte for API clients (application/json, */*, no Accept)", async () => {
    const version = (await http(server.url, "GET", "/health")).body.version as string;
    for (const accept of ["application/json", "*/*", undefined]) {
      const res = await fetch(`${server.url}/`, { headers: accept ? { accept } : {} });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(await res.text()).toBe(INDEX(version));
    }
  });

  it("gives browsers the console with a strict CSP, and only files of this server", async () => {
    const res = await http(server.url, "GET", "/", { headers: html });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe");
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toMatch(/^\/console\/assets\/[\w.-]+-[\w-]{8}\.(js|css|svg)$/);
    expect(res.text).not.toMatch(/<script>|<style>|\son\w+=/); // nothing inline
  });

  it("serves the page at /reset-password (the reset mail's link) and at the console's own paths", async () => {
    for (const path of ["/reset-password?token=abc", "/console/devices", "/console/dashboards/0190a3b2-0000-7000-8000-000000000000"]) {
      const res = await http(server.url, "GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-security-policy"), path).toContain("default-src 'none'");
      expect(res.text).toContain('<div id="app">');
    }
  });

  it("serves hashed assets for a year, with an ETag, 304 and gzip, never rate limited; other names are counted 404s", async () => {
    const page = await http(server.url, "GET", "/", { headers: html });
    const urls = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    for (let round = 0; round < 4; round++) {
      for (const url of urls) {
        const res = await fetch(server.url + url, { headers: { "accept-encoding": "identity" } });
        const body = Buffer.from(await res.arrayBuffer());
        expect(res.status, url).toBe(200);
        expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(res.headers.get("ratelimit-limit")).toBeNull();
        expect(res.headers.get("content-type")).toMatch(/^(text\/javascript|text\/css|image\/svg\+xml)/);
        expect(body.length).toBeGreaterThan(100);
        const etag = res.headers.get("etag")!;
        expect((await fetch(server.url + url, { headers: { "if-none-match": etag } })).status).toBe(304);
        if (body.length > 1024) {
          const zipped = await fetch(server.url + url, { headers: { "accept-encoding": "gzip" } });
          expect(zipped.headers.get("content-encoding")).toBe("gzip");
          expect(Buffer.from(await zipped.arrayBuffer()).equals(body)).toBe(true);
        }
      }
    }
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await http(server.url, "GET", "/console/assets/nope-12345678.js")).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });
});
