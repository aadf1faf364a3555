import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeDocs, type OpenApiDocument } from "../../rest-compat/openapi/document.js";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let doc: OpenApiDocument;

beforeAll(async () => {
  // A budget of 2: the docs must still answer after 5 calls.
  server = await startTestServer({ RATE_LIMIT_MAX: "2", MAX_KEYS_PER_REPORT: "300" });
  const res = await http<OpenApiDocument>(server.url, "GET", "/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
  doc = res.body;
});
afterAll(() => server.stop());

/** Every endpoint of contract/rest-compat.md with every status it can answer. */
const EXPECTED: Record<string, number[]> = {
  "POST /devices/{device_id}/telemetry": [200, 400, 403, 404, 413, 415, 429, 503],
  "POST /devices/{device_id}/telemetry/batch": [200, 400, 403, 404, 413, 415, 429, 503],
  "POST /telemetry": [200, 400, 403, 413, 415, 429, 503],
  "GET /telemetry/latest": [200, 400, 403, 429, 503],
  "POST /widgets/{widget_id}/state": [200, 400, 401, 404, 413, 415, 429, 503],
  "POST /logout": [200, 503],
  "GET /health": [200, 503],
  "GET /health/live": [200],
  "GET /health/ready": [200, 503],
  "GET /metrics": [200, 401, 403],
  "GET /": [200],
  "GET /docs": [200],
  "GET /notifications/stream": [200, 401],
  "GET /export/telemetry.csv": [200, 400, 401, 404, 429, 503],
  "POST /firmware": [201, 400, 401, 409, 413, 415, 429, 503],
  "GET /firmware/update": [200, 206, 304, 403, 416, 429, 503],
};
/** The contract's status table for device endpoints. */
const DEVICE_TABLE = [200, 400, 403, 404, 413, 415, 429, 503];

type Node = Record<string, any>;
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
const deref = (node: Node): Node =>
  typeof node.$ref === "string"
    ? node.$ref
        .split("/")
        .slice(1)
        .reduce((n: Node, k: string) => n[k], doc)
    : node;

describe("GET /openapi.json", () => {
  it("is built from the routes: every REST route documents itself; only GraphQL and its IDE are elsewhere", () => {
    const rest = routeDocs(server.app).undocumented.filter((r) => !/ \/graphql(\/|$)|^GET \/openapi\.json$/.test(r));
    expect(rest).toEqual([]);
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("lists every endpoint of the contract with every status it answers", () => {
    const listed = Object.fromEntries(operations().map(({ key, op }) => [key, Object.keys(op.responses).map(Number)]));
    expect(listed).toEqual(EXPECTED);
    const device = operations().filter(({ op }) => op.tags.includes("device"));
    expect([...new Set(device.flatMap(({ op }) => Object.keys(op.responses).map(Number)))].sort()).toEqual(DEVICE_TABLE);
    const limited = deref(doc.paths["/telemetry"]!.post!.responses["429"]!);
    expect(Object.keys(limited.headers)).toEqual(["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]);
  });

  it("names every token carrier and the optional long poll", () => {
    const schemes = doc.components.securitySchemes!;
    expect(schemes.deviceTokenQuery).toMatchObject({ type: "apiKey", in: "query", name: "device_token" });
    expect(schemes.deviceTokenHeader).toMatchObject({ type: "apiKey", in: "header", name: "X-Device-Token" });
    expect(schemes.deviceBearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.accessToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas!.TelemetryRequest!.properties).toHaveProperty("device_token");
    const latest = doc.paths["/telemetry/latest"]!.get!;
    expect(latest.security).toEqual([{ deviceTokenQuery: [] }, { deviceTokenHeader: [] }, { deviceBearer: [] }]);
    const wait = latest.parameters!.find((p) => p.name === "wait")!;
    expect(wait).toMatchObject({ in: "query", required: false, schema: { type: "integer" } });
    expect(wait.description).toMatch(/optional.*X-Long-Poll-Max/s);
    expect(latest.responses["200"]!.headers).toHaveProperty("X-Long-Poll-Max");
  });

  it("states the server's own limits", () => {
    expect(doc.components.schemas!.ReportData).toMatchObject({ maxProperties: 300, propertyNames: { pattern: "^[A-Za-z0-9_.:-]{1,64}$" } });
    expect(doc.info.description).toContain("rate limited to 2 per 60 s");
  });

  it("has examples that match their schemas, including the contract's own", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false, allErrors: true });
    ajv.addKeyword("components"); // the document's schemas are reached by $ref pointers into it
    ajv.addSchema({ $id: "doc", components: { schemas: doc.components.schemas } });
    let checked = 0;
    const check = (schema: Node, value: unknown, where: string) => {
      const validate = ajv.compile(schema.$ref ? { $ref: `doc${schema.$ref}` } : (schema as object));
      expect(validate(value), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked++;
    };
    for (const { key, op } of operations()) {
      for (const p of op.parameters ?? []) if ("example" in p) check(p.schema as Node, p.example, `${key} ${String(p.name)}`);
      for (const [status, raw] of Object.entries({ request: op.requestBody ?? {}, ...op.responses })) {
        const media = deref(raw as Node).content?.["application/json"];
        if (!media) continue;
        const examples = "example" in media ? [media.example] : Object.values(media.examples as Node).map((e: Node) => e.value);
        for (const example of examples) check(media.schema, example, `${key} ${status}`);
      }
    }
    expect(checked).toBeGreaterThan(25);
    const v2 = doc.paths["/devices/{device_id}/telemetry"]!.post!;
    expect((v2.requestBody as Node).content["application/json"].examples.report.value.data).toEqual({ v0: 1, v1: 0, temperature: 25.5, humidity: 60 });
    expect(doc.paths["/telemetry/latest"]!.get!.responses["200"]!.content).toMatchObject({
      "application/json": { examples: { fresh: { value: { data: {}, timestamp: null } } } },
    });
  });
});

describe("GET /docs", () => {
  it("is an HTML page that shows every path and links the OpenAPI document and GraphQL", async () => {
    const res = await http(server.url, "GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-[\w+/=]+'/);
    expect(res.text).toMatch(/^<!doctype html>/);
    for (const key of Object.keys(EXPECTED)) {
      const [method, path] = key.split(" ");
      expect(res.text).toContain(`${method}</span>${path}</h3>`);
    }
    expect(res.text).toContain('href="/openapi.json"');
    expect(res.text).toContain('href="/graphql"');
    for (const carrier of ["X-Device-Token", "device_token", "Authorization: Bearer", "X-Long-Poll-Max", "Retry-After"]) expect(res.text).toContain(carrier);
    expect(res.text).not.toMatch(/<script|https?:\/\//);
  });
});

describe("rate limiting", () => {
  it("never limits /docs or /openapi.json, but does count paths that only look like them", async () => {
    for (let i = 0; i < 5; i++) {
      for (const path of ["/docs", "/openapi.json"]) {
        const res = await http(server.url, "GET", path);
        expect(res.status, `${path} call ${i + 1}`).toBe(200);
        expect(res.headers.get("ratelimit-limit")).toBeNull();
      }
    }
    const statuses: number[] = [];
    for (const path of ["/docs/", "/DOCS", "/openapi.json/"]) statuses.push((await http(server.url, "GET", path)).status);
    expect(statuses).toEqual([404, 404, 429]);
  });
});
