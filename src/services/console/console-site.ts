import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";

const gzip = promisify(gzipCallback);

/** Where the browser finds the console's files; Vite's `base` (console/vite.config.ts) says the same. */
export const CONSOLE_PREFIX = "/console";
export const ASSET_PREFIX = "/console/assets/";

const TYPES: Readonly<Record<string, string>> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  woff2: "font/woff2",
  map: "application/json; charset=utf-8",
};

/**
 * Only this server: scripts and styles are files of the build (no inline script or style), and
 * connections go to the same origin ('self' covers ws:/wss: to it, CSP 3) for /graphql and graphql-ws.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  gzipped?: Promise<Buffer>;
}

/**
 * The built console (console/dist, made by `npm ci` through the `prepare` script): its index.html and
 * its content-hashed assets, read once at start. Assets are cached for a year (their names change
 * with their content); the page is revalidated so a new build's names are picked up.
 */
export class ConsoleSite {
  private constructor(
    private readonly html: string | undefined,
    private readonly assets: ReadonlyMap<string, Asset>,
  ) {}

  /** Reads `dir`; a missing build gives a site that is not `ready` (the JSON index stays at `/`). */
  static load(dir: string): ConsoleSite {
    const index = join(dir, "index.html");
    if (!existsSync(index)) return new ConsoleSite(undefined, new Map());
    const assets = new Map<string, Asset>();
    const assetDir = join(dir, "assets");
    for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
      const type = TYPES[name.split(".").pop() ?? ""];
      if (!type) continue;
      const body = readFileSync(join(assetDir, name));
      assets.set(name, { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });
    }
    return new ConsoleSite(readFileSync(index, "utf8"), assets);
  }

  get ready(): boolean {
    return this.html !== undefined;
  }

  /** The page, for `/`, `/reset-password` and the console's own client-side routes. */
  page(reply: FastifyReply): FastifyReply {
    return reply
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", CONSOLE_CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("vary", "accept")
      .send(this.html);
  }

  /** An asset by its file name; false when there is none (the request goes on to the 404 handler). */
  async asset(name: string, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const asset = this.assets.get(name);
    if (!asset) return false;
    reply
      .header("content-type", asset.type)
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("etag", asset.etag)
      .header("vary", "accept-encoding")
      .header("x-content-type-options", "nosniff");
    if (request.headers["if-none-match"] === asset.etag) {
      await reply.status(304).send();
    } else if (/\bgzip\b/.test(request.headers["accept-encoding"] ?? "") && asset.body.length > 1024) {
      // Compressed once per process, on first demand.
      asset.gzipped ??= gzip(asset.body, { level: 9 });
      await reply.header("content-encoding", "gzip").send(await asset.gzipped);
    } else {
      await reply.send(asset.body);
    }
    return true;
  }
}

const DIST = fileURLToPath(new URL("../../../console/dist/", import.meta.url));
let site: ConsoleSite | undefined;

/** The console of this checkout's console/dist, read on first use (at start, by the routes). */
export function consoleSite(): ConsoleSite {
  site ??= ConsoleSite.load(DIST);
  return site;
}
