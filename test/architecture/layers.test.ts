import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The direction rule of docs/architecture.md, checked on the imports themselves:
 * platform ← kernels (GraphQL plumbing, HTTP errors) ← entities ← features, in a fixed order ← app.
 * A feature imports only features before it; later ones reach it through events.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FEATURES = ["accounts", "devices", "telemetry", "dashboards", "notifications", "schedules", "webhooks", "rules", "mqtt", "ota", "console"] as const;
/** rest-compat routes and automation resolvers, by file name. */
const BY_FILE: Record<string, string> = {
  "rest-compat/app.routes.ts": "accounts",
  "rest-compat/device.routes.ts": "telemetry",
  "rest-compat/export.routes.ts": "telemetry",
  "rest-compat/widget.routes.ts": "dashboards",
  "rest-compat/notifications-stream.routes.ts": "notifications",
  "rest-compat/ota.routes.ts": "ota",
};

type Layer = { rank: number; name: string; feature?: number };

function layerOf(file: string): Layer {
  if (file.startsWith("src/platform/")) return { rank: 0, name: "platform" };
  if (file.startsWith("src/schema/") || file === "rest-compat/errors.ts" || file.startsWith("rest-compat/openapi")) return { rank: 1, name: "kernel" };
  if (file.startsWith("src/entities/")) return { rank: 2, name: "entities" };
  const feature = featureOf(file);
  if (feature !== undefined) return { rank: 3, name: `feature ${FEATURES[feature]}`, feature };
  if (file.startsWith("src/app/") || file === "src/main.ts" || file === "src/admin.ts" || file.startsWith("rest-compat/")) return { rank: 4, name: "app" };
  throw new Error(`${file} belongs to no layer: add it to docs/architecture.md and to this test`);
}

function featureOf(file: string): number | undefined {
  const named = BY_FILE[file];
  if (named) return FEATURES.indexOf(named as (typeof FEATURES)[number]);
  const match = /^src\/(?:services|resolvers)\/(?:automation\/)?([a-z-]+)\//.exec(file);
  if (!match) return undefined;
  let name = match[1]!;
  if (name === "automation") {
    const base = file.split("/").pop()!;
    name = base.startsWith("schedule") ? "schedules" : base.startsWith("webhook") ? "webhooks" : "rules";
  }
  const index = FEATURES.indexOf(name as (typeof FEATURES)[number]);
  if (index < 0) throw new Error(`${file}: unknown feature folder ${name}`);
  return index;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    const path = join(dir, entry);
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path));
    else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const files = [...sources("src"), ...sources("rest-compat")].filter((f) => !f.startsWith("src/schema/ide/"));
const IMPORT_RE = /^\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(IMPORT_RE)].map((m) => relative(root, resolve(root, dirname(file), m[1]!)).replace(/\.js$/, ".ts"));
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("architecture", () => {
  it("every import points down a layer, or to an earlier feature", () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      const from = layerOf(file);
      for (const target of imports) {
        const to = layerOf(target);
        const down = to.rank < from.rank || (to.rank === from.rank && (from.feature === undefined || to.feature! <= from.feature));
        if (!down) wrong.push(`${file} (${from.name}) imports ${target} (${to.name})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, "open");
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("each feature has one manifest, and only the app imports manifests (besides earlier features' types)", () => {
    for (const name of FEATURES) {
      const manifest = files.filter((f) => f.endsWith(`/${name}.module.ts`));
      expect(manifest, name).toHaveLength(1);
    }
    const valueImports: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(root, file), "utf8");
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+["'](\.{1,2}\/[^"']+\.module\.js)["']/gm)) {
        if (!file.startsWith("src/app/")) valueImports.push(`${file} imports ${m[1]}`);
      }
    }
    expect(valueImports).toEqual([]);
  });

  it("no folder holds more than 20 files, no source file more than 300 lines", () => {
    const big: string[] = [];
    const folders = new Map<string, number>();
    for (const file of [...files, ...sources("test")]) {
      folders.set(dirname(file), (folders.get(dirname(file)) ?? 0) + 1);
      const lines = readFileSync(join(root, file), "utf8").split("\n").length;
      if (lines > 300) big.push(`${file}: ${lines} lines`);
    }
    for (const [folder, count] of folders) if (count > 20) big.push(`${folder}: ${count} files`);
    expect(big).toEqual([]);
  });
});
