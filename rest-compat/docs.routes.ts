import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Services } from "../src/platform/services.js";
import { IDE_ASSET_PREFIX } from "../src/schema/ide.js";
import { docsDoc } from "./openapi/service.docs.js";
import { openApiDocument, routeDocs, type JsonObject, type OpenApiDocument, type OpenApiOperation } from "./openapi/document.js";

/** GET /docs (readable REST compat documentation) and GET /openapi.json. Never rate limited (exact routes). */
export function docsRoutes(app: FastifyInstance, services: Services): void {
  const config = { rateLimit: false as const };
  // Built on first use, from the routes registered by then (all of them: the server is listening).
  let rendered: { json: string; html: string } | undefined;
  const docs = () => {
    if (!rendered) {
      const document = openApiDocument(services.config, routeDocs(app).documented);
      rendered = { json: JSON.stringify(document), html: renderDocs(document) };
    }
    return rendered;
  };

  app.get("/openapi.json", { config }, async (_request, reply) =>
    reply.header("content-type", "application/json; charset=utf-8").header("cache-control", "no-cache").send(docs().json),
  );
  app.get("/docs", { config: { ...config, openapi: docsDoc } }, async (_request, reply) =>
    reply
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", DOCS_CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .send(docs().html),
  );
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px 20px 64px}
h1{margin:0 0 4px}h2{margin:40px 0 12px;border-bottom:1px solid #dde1e7;padding-bottom:6px}
a{color:#0b62c4}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:#eceff3;padding:1px 4px;border-radius:4px}
pre{background:#1f2430;color:#e6e9ef;padding:10px 12px;border-radius:6px;overflow:auto;margin:6px 0}
nav ul{padding-left:18px}.links a{margin-right:16px}
section.op{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 18px;margin:16px 0}
.op h3{margin:0 0 6px;font:600 16px ui-monospace,Menlo,monospace}
.m{display:inline-block;min-width:52px;text-align:center;color:#fff;border-radius:4px;padding:1px 6px;margin-right:8px;font-size:13px}
.m-get{background:#1f7a4d}.m-post{background:#0b62c4}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;vertical-align:top;border-top:1px solid #e6e9ef;padding:6px 8px}
th{font-weight:600;color:#4a5466}.s{font-weight:700}.s2{color:#1f7a4d}.s4{color:#b25b00}.s5{color:#b3261e}
`;

const DOCS_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
/** Descriptions use `backticks` for code, nothing else. */
const prose = (text: string | undefined) => escape(text ?? "").replace(/`([^`]+)`/g, "<code>$1</code>");
const pretty = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;
const anchor = (method: string, path: string) => `${method}${path}`.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "");

/** Follows a local `$ref` (`#/components/...`) of the document. */
function resolve(document: OpenApiDocument, node: JsonObject): JsonObject {
  const target = node.$ref;
  if (typeof target !== "string") return node;
  const [, , kind, name] = target.split("/");
  return document.components[kind!]![name!]!;
}

function typeOf(schema: JsonObject): string {
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.split("/").pop()!;
    return `<a href="#schema-${name}">${name}</a>`;
  }
  if ("const" in schema) return `<code>${escape(JSON.stringify(schema.const))}</code>`;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => `<code>${escape(JSON.stringify(v))}</code>`).join(" | ");
  const types = Array.isArray(schema.type) ? schema.type.join(" | ") : String(schema.type ?? "any");
  return escape(typeof schema.format === "string" ? `${types} (${schema.format})` : types);
}

const CARRIERS: Record<string, string> = {
  deviceTokenQuery: "<code>device_token</code> query parameter",
  deviceTokenHeader: "<code>X-Device-Token</code> header",
  deviceBearer: "<code>Authorization: Bearer &lt;device token&gt;</code>",
  accessToken: "<code>Authorization: Bearer &lt;access token&gt;</code>",
};

function securityOf(op: OpenApiOperation): string {
  if (!op.security) return "";
  const ways = op.security.map((requirement) => {
    const names = Object.keys(requirement);
    if (names.length > 0) return names.map((name) => CARRIERS[name] ?? escape(name)).join(" + ");
    return op.tags.includes("device") ? "<code>device_token</code> in the JSON body" : "none (optional)";
  });
  return `<p><b>Token:</b> ${ways.join(", or ")}</p>`;
}

function examplesOf(media: JsonObject | undefined): string {
  if (!media) return "";
  if ("example" in media) return pretty(media.example);
  const examples = (media.examples ?? {}) as Record<string, JsonObject>;
  return Object.values(examples)
    .map((e) => `<div>${prose(e.summary as string)}</div>${pretty(e.value)}`)
    .join("");
}

function renderOperation(document: OpenApiDocument, method: string, path: string, op: OpenApiOperation): string {
  const parts = [
    `<section class="op" id="${anchor(method, path)}">`,
    `<h3><span class="m m-${method}">${method.toUpperCase()}</span>${escape(path)}</h3>`,
    `<p><b>${escape(op.summary)}</b>. ${prose(op.description)}</p>`,
    securityOf(op),
  ];
  if (op.parameters?.length) {
    const rows = op.parameters.map(
      (p) =>
        `<tr><td><code>${escape(String(p.name))}</code></td><td>${escape(String(p.in))}</td><td>${p.required ? "yes" : "no"}</td>` +
        `<td>${typeOf(p.schema as JsonObject)}</td><td>${prose(p.description as string)}</td></tr>`,
    );
    parts.push(`<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>${rows.join("")}</table>`);
  }
  if (op.requestBody) {
    const media = (op.requestBody.content as Record<string, JsonObject>)["application/json"];
    parts.push(
      `<p><b>Request body</b> (<code>application/json</code>, ${typeOf(media?.schema as JsonObject)}). ${prose(op.requestBody.description as string)}</p>`,
    );
    parts.push(examplesOf(media));
  }
  const rows = Object.entries(op.responses).map(([status, raw]) => {
    const response = resolve(document, raw);
    const content = response.content as Record<string, JsonObject> | undefined;
    const headers = Object.keys((response.headers ?? {}) as JsonObject).map((h) => `<code>${escape(h)}</code>`);
    return (
      `<tr><td class="s s${status[0]}">${status}</td><td>${prose(response.description as string)}` +
      `${headers.length ? `<div>Headers: ${headers.join(", ")}</div>` : ""}${examplesOf(content?.["application/json"])}</td></tr>`
    );
  });
  parts.push(`<table><tr><th>status</th><th>response</th></tr>${rows.join("")}</table></section>`);
  return parts.join("\n");
}

function renderSchema(name: string, schema: JsonObject): string {
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  const rows = Object.entries(properties).map(
    ([key, value]) =>
      `<tr><td><code>${escape(key)}</code></td><td>${typeOf(value)}</td><td>${required.has(key) ? "yes" : "no"}</td><td>${prose(value.description as string)}</td></tr>`,
  );
  const table = rows.length ? `<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>${rows.join("")}</table>` : "";
  return `<section class="op" id="schema-${name}"><h3>${name}</h3><p>${prose(schema.description as string)}</p>${table}</section>`;
}

/** The document as one readable page: every operation with its token carriers, examples and status codes. */
export function renderDocs(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  const nav = operations
    .map(({ path, method, op }) => `<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escape(path)}</code></a> ${escape(op.summary)}</li>`)
    .join("");
  const sections = document.tags.map(
    (tag) =>
      `<h2>${escape(tag.name)}</h2><p>${prose(tag.description)}</p>` +
      operations
        .filter(({ op }) => op.tags.includes(tag.name))
        .map(({ path, method, op }) => renderOperation(document, method, path, op))
        .join("\n"),
  );
  const schemas = Object.entries(document.components.schemas ?? {}).map(([name, schema]) => renderSchema(name, schema));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info.title)}</title>
<link rel="icon" type="image/svg+xml" href="${IDE_ASSET_PREFIX}favicon.svg">
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escape(document.info.title)}</h1>
<p>Version ${escape(document.info.version)}. ${prose(document.info.description)}</p>
<p class="links"><a href="/openapi.json">OpenAPI 3.1 document (/openapi.json)</a><a href="/graphql">GraphQL API and IDE (/graphql)</a><a href="/health">/health</a></p>
<nav><ul>${nav}</ul></nav>
${sections.join("\n")}
<h2>Schemas</h2>
${schemas.join("\n")}
</main>
</body>
</html>
`;
}
