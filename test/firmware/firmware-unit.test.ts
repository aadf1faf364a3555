// The firmware's C++ host unit tests (doctest), run from vitest so `npm test` covers them too.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FIRMWARE = fileURLToPath(new URL("../../firmware", import.meta.url));

/** What `make -C firmware test` needs; .ci/run installs the Debian packages when they are missing. */
function missingTools(): string[] {
  const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
  const missing: string[] = [];
  if (!has("g++")) missing.push("g++");
  if (!has("make")) missing.push("make");
  if (!existsSync("/usr/include/cjson/cJSON.h")) missing.push("/usr/include/cjson/cJSON.h");
  if (!existsSync("/usr/include/doctest/doctest.h")) missing.push("/usr/include/doctest/doctest.h");
  return missing;
}

const missing = missingTools();

function make(): Promise<{ code: number | null; output: string }> {
  // Never `make clean`: objects stay in firmware/build, so later runs only recompile what changed.
  const child = spawn("make", ["-C", FIRMWARE, `-j${availableParallelism()}`, "test"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  return new Promise((done) => child.on("close", (code) => done({ code, output })));
}

describe("firmware host unit tests (make -C firmware test)", () => {
  // A first build compiles the core and the tests: 1-2 minutes on 2 cores.
  it("build and pass", { timeout: 600_000 }, async (ctx) => {
    ctx.skip(missing.length > 0, `${missing.join(", ")} missing: install g++, libcjson-dev and doctest-dev; .ci/run does`);
    const { code, output } = await make();
    // eslint-disable-next-line no-control-regex
    const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
    const summary = /\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed/.exec(plain);
    expect(summary, `no doctest summary in the output:\n${plain.slice(-3000)}`).not.toBeNull();
    const [, total, passed, failed] = summary!.map(Number);
    expect({ failed, exit: code }, plain.slice(-3000)).toEqual({ failed: 0, exit: 0 });
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBe(total);
  });
});
