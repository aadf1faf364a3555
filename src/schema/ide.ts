import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * GraphiQL at GET /graphql for browsers, with every script and stylesheet served by this server from
 * installed packages (graphiql's UMD build, React 18's UMD files): the IDE works with no internet, and
 * the page's Content-Security-Policy lets it load and connect to nothing but this server.
 */

const gzip = promisify(gzipCallback);
const require = createRequire(import.meta.url);
const packageFile = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);
const ownFile = (file: string) => fileURLToPath(new URL(`./ide/${file}`, import.meta.url));

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** URL name → where it comes from. Exact routes only: any other path under /graphql/ide/ is a counted 404. */
const SOURCES: Readonly<Record<string, { path: () => string; type: string }>> = {
  "react.production.min.js": { path: () => packageFile("react", "umd/react.production.min.js"), type: JS },
  "react-dom.production.min.js": { path: () => packageFile("react-dom", "umd/react-dom.production.min.js"), type: JS },
  "graphiql.min.js": { path: () => packageFile("graphiql", "graphiql.min.js"), type: JS },
  "graphiql.min.css": { path: () => packageFile("graphiql", "graphiql.min.css"), type: CSS },
  "ide.js": { path: () => ownFile("ide.js"), type: JS },
  "ide.css": { path: () => ownFile("ide.css"), type: CSS },
  "favicon.svg": { path: () => ownFile("favicon.svg"), type: "image/svg+xml" },
};

export const IDE_ASSET_PREFIX = "/graphql/ide/";

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  /** Content hash: the ETag, and the `?v=` of the page's links, so a year of caching is safe. */
  readonly hash: string;
  gzipped?: Promise<Buffer>;
}

let loading: Promise<ReadonlyMap<string, Asset>> | undefined;

/** Read once per process, on the first request (not at start: most processes never serve the IDE). */
function assets(): Promise<ReadonlyMap<string, Asset>> {
  loading ??= (async () => {
    const entries = await Promise.all(
      Object.entries(SOURCES).map(async ([name, source]): Promise<[string, Asset]> => {
        const body = await readFile(source.path());
        const hash = createHash("sha256").update(body).digest("base64url").slice(0, 16);
        return [name, { body, type: source.type, hash }];
      }),
    );
    return new Map(entries);
  })();
  loading.catch(() => (loading = undefined)); // a failed read is retried by the next request
  return loading;
}

/**
 * Everything from this server only; GraphiQL's fonts and icons are data: URLs inside its stylesheet.
 * Styles also allow 'unsafe-inline': GraphiQL's dialogs (Radix) inject a <style> element whose text
 * depends on the window's scrollbar width, so no fixed hash fits it. Scripts stay 'self' only.
 */
export const IDE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  // 'self' covers ws:/wss: to the same host (CSP 3), for graphql-ws subscriptions.
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function page(files: ReadonlyMap<string, Asset>): string {
  const url = (name: string) => `${IDE_ASSET_PREFIX}${name}?v=${files.get(name)!.hash}`;
  const script = (name: string) => `<script src="${url(name)}"></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ThingsNXT GraphQL</title>
<link rel="icon" type="image/svg+xml" href="${url("favicon.svg")}">
<link rel="stylesheet" href="${url("graphiql.min.css")}">
<link rel="stylesheet" href="${url("ide.css")}">
</head>
<body>
<div id="graphiql" data-endpoint="/graphql"><p class="ide-loading">Loading GraphiQL&hellip;<noscript> This page needs JavaScript.</noscript></p></div>
${script("react.production.min.js")}
${script("react-dom.production.min.js")}
${script("graphiql.min.js")}
${script("ide.js")}
</body>
</html>
`;
}

let html: string | undefined;

/** GET /graphql from a browser (Accept: text/html): the IDE page. */
export async function serveIde(_request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  html ??= page(await assets());
  return reply
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-cache") // revalidated, so a new release's asset URLs are picked up
    .header("content-security-policy", IDE_CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .send(html);
}

async function serveAsset(name: string, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const asset = (await assets()).get(name)!;
  const etag = `"${asset.hash}"`;
  reply
    .header("content-type", asset.type)
    .header("cache-control", "public, max-age=31536000, immutable")
    .header("etag", etag)
    .header("vary", "accept-encoding")
    .header("x-content-type-options", "nosniff");
  if (request.headers["if-none-match"] === etag) return reply.status(304).send();
  // graphiql.min.js is ~1 MB; gzip makes it ~300 kB. Compressed once per process, on first demand.
  if (/\bgzip\b/.test(request.headers["accept-encoding"] ?? "") && asset.body.length > 1024) {
    asset.gzipped ??= gzip(asset.body, { level: 9 });
    return reply.header("content-encoding", "gzip").send(await asset.gzipped);
  }
  return reply.send(asset.body);
}

/**
 * The IDE's assets, never rate limited, each at an exact path. The page itself is answered by
 * Apollo's /graphql route (src/schema/apollo.ts) when a browser asks for text/html; that route is
 * exempt from the REST budget as a whole.
 */
export function ideRoutes(app: FastifyInstance): void {
  for (const name of Object.keys(SOURCES)) {
    app.get(IDE_ASSET_PREFIX + name, { config: { rateLimit: false } }, (request, reply) => serveAsset(name, request, reply));
  }
}
