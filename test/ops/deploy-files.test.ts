import { execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { builtinModules } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/platform/config.js";
import { eventually } from "../helpers/fixture.js";
import { createTestDatabase } from "../helpers/server.js";

/*
 * No Docker engine runs on the project's machines, so the image is never built here. What can be
 * checked without one is checked: the files the Dockerfile copies start the server with its CMD,
 * its HEALTHCHECK command passes against that server, the image's production-only install has
 * every package the server imports, and compose.yaml sets only variables the server reads.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const text = (file: string) => readFileSync(join(root, file), "utf8");
const pkg = JSON.parse(text("package.json")) as { scripts: Record<string, string>; dependencies: Record<string, string> };

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions (continuations joined, comments dropped), stage by stage. */
function dockerfile(): Instruction[][] {
  const joined = text("Dockerfile")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((line) => line.trim() && !line.trim().startsWith("#"));
  const stages: Instruction[][] = [];
  for (const line of joined) {
    const [, op, args] = /^\s*(\S+)\s*(.*)$/.exec(line)!;
    if (op!.toUpperCase() === "FROM") stages.push([]);
    stages.at(-1)!.push({ op: op!.toUpperCase(), args: args!.trim() });
  }
  return stages;
}

const stages = dockerfile();
const final = stages.at(-1)!;
const one = (op: string) => final.filter((i) => i.op === op).at(-1)!.args;
const env: Record<string, string> = Object.fromEntries(
  final.filter((i) => i.op === "ENV").flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
);
/** What the final stage copies from the build context (not from another stage). */
const copied = final.filter((i) => i.op === "COPY" && !i.args.startsWith("--from")).flatMap((i) => i.args.split(/\s+/).slice(0, -1));

/** `services.app.environment` of compose.yaml: the keys of that one mapping, read by indentation. */
function composeAppEnvironment(): string[] {
  const lines = text("compose.yaml").split("\n");
  const app = lines.findIndex((l) => /^ {2}app:\s*$/.test(l));
  const start = lines.findIndex((l, i) => i > app && /^ {4}environment:\s*$/.test(l));
  expect(app, "compose.yaml has services.app").toBeGreaterThan(0);
  expect(start, "services.app has an environment mapping").toBeGreaterThan(app);
  const keys: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const m = /^ {6}([A-Za-z_][A-Za-z0-9_]*):/.exec(line);
    if (!m) break;
    keys.push(m[1]!);
  }
  return keys;
}

/** Bare package names imported by the server's own code (tests excluded). */
function runtimeImports(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) {
        for (const m of text(path).matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)["']([^"'./][^"']*)["']/gm)) {
          const spec = m[1]!;
          if (spec.startsWith("node:") || builtinModules.includes(spec)) continue;
          const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
          if (!found.has(name)) found.set(name, path);
        }
      }
    }
  };
  for (const dir of ["src", "rest-compat"]) walk(dir);
  return found;
}

describe("Dockerfile", () => {
  it("runs `npm start`'s command itself (no npm in between to swallow signals), as a non-root user", () => {
    expect(JSON.parse(one("CMD"))).toEqual(pkg.scripts.start!.split(" "));
    expect(one("USER")).not.toMatch(/^(root|0)(:|$)/);
    expect(stages.every((stage) => stage[0]!.args.startsWith("node:20-bookworm-slim"))).toBe(true);
  });

  it("exposes the ports the server listens on (HTTP, the MQTT endpoint), and compose maps them", () => {
    const config = loadConfig({ PORT: env.PORT });
    expect(one("EXPOSE").split(/\s+/)).toEqual([env.PORT, String(config.mqtt.port)]);
    expect(config.port).toBe(Number(env.PORT));
    for (const port of [env.PORT, String(config.mqtt.port)]) expect(text("compose.yaml")).toContain(`"${port}:${port}"`);
  });

  it("installs without dev dependencies, so every package the server imports is a runtime dependency", () => {
    expect(stages.flat().some((i) => i.op === "RUN" && /npm ci --omit=dev/.test(i.args))).toBe(true);
    const missing = [...runtimeImports()].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
    expect(missing, "move these to dependencies, or the image fails at start").toEqual([]);
  });

  describe("the copied files alone", () => {
    const stage = mkdtempSync(join(tmpdir(), "thingsnxt-image-"));
    let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
    let child: ReturnType<typeof spawn> | undefined;
    afterAll(async () => {
      if (child && child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((done) => child!.once("exit", done));
      }
      await db?.drop();
      rmSync(stage, { recursive: true, force: true });
    });

    it("start the server with the image's CMD and ENV, and the HEALTHCHECK command passes", async () => {
      for (const path of copied) cpSync(join(root, path), join(stage, path), { recursive: true });
      symlinkSync(join(root, "node_modules"), join(stage, "node_modules")); // stands in for the deps stage
      db = await createTestDatabase();
      const port = await new Promise<number>((done) => {
        const probe = createServer().listen(0, "127.0.0.1", () => {
          const { port: free } = probe.address() as { port: number };
          probe.close(() => done(free));
        });
      });
      const [command, ...args] = JSON.parse(one("CMD")) as string[];
      const childEnv = {
        PATH: process.env.PATH,
        ...env,
        DATA_DIR: join(stage, "data"),
        PORT: String(port),
        DATABASE_URL: db.url,
        LOG_LEVEL: "warn",
        MQTT_PORT: "off",
      };
      child = spawn(command === "node" ? process.execPath : command!, args, { cwd: stage, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));

      const [, healthArgs] = /^(?:--\S+\s+)*CMD\s+(\[.*\])$/.exec(one("HEALTHCHECK"))!;
      const [hcCommand, ...hcArgs] = JSON.parse(healthArgs!) as string[];
      const healthcheck = () =>
        new Promise<number>((done) =>
          execFile(hcCommand === "node" ? process.execPath : hcCommand!, hcArgs, { env: childEnv, timeout: 10_000 }, (error) =>
            done(error ? ((error as { code?: number }).code ?? 1) : 0),
          ),
        );
      expect(await healthcheck(), "nothing listens yet").not.toBe(0);
      await eventually(
        "the server to answer",
        async () => {
          if (child!.exitCode !== null) throw new Error(`the server exited with ${child!.exitCode}:\n${output}`);
          return (await healthcheck()) === 0;
        },
        45_000,
      );
      expect(child.exitCode).toBeNull();
    }, 60_000);
  });
});

describe("compose.yaml", () => {
  it("sets only variables the server reads, each listed in .env.example", () => {
    const keys = composeAppEnvironment();
    expect(keys).toEqual(expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "NODE_ENV"]));
    const config = text("src/platform/config.ts");
    const example = text(".env.example");
    for (const key of keys) {
      expect(config.includes(`"${key}"`) || config.includes(`env.${key}`), `${key} is read by src/platform/config.ts`).toBe(true);
      expect(example, `${key} is in .env.example`).toMatch(new RegExp(`^#? ?${key}=`, "m"));
    }
  });

  it("points the server at its own postgres and redis services, started healthy first", () => {
    const compose = text("compose.yaml");
    expect(compose).toMatch(/DATABASE_URL: postgres:\/\/thingsnxt:\$\{POSTGRES_PASSWORD\}@postgres:5432\/thingsnxt/);
    expect(compose).toMatch(/REDIS_URL: redis:\/\/redis:6379/);
    expect(compose.match(/condition: service_healthy/g)).toHaveLength(2);
    expect(compose.match(/healthcheck:/g)).toHaveLength(2);
  });
});
