import { afterAll, beforeAll } from "vitest";
import { signUp, type Account } from "./graphql.js";
import { sleep, startTestServer, type TestServer } from "./server.js";

/** What a test file shares: one real server on its own database, and two accounts on it. */
export interface TestEnv {
  server: TestServer;
  /** The server's base URL. */
  base: string;
  alice: Account;
  bob: Account;
}

/**
 * Starts the real server before the file's tests (with these settings over the test defaults),
 * signs up two users, and stops everything after them. Fields are filled in `beforeAll`.
 */
export function useTestServer(env: Record<string, string> = {}): TestEnv {
  const t = {} as TestEnv;
  beforeAll(async () => {
    t.server = await startTestServer(env);
    t.base = t.server.url;
    [t.alice, t.bob] = await Promise.all([signUp(t.base), signUp(t.base)]);
  });
  afterAll(() => t.server?.stop());
  return t;
}

/**
 * Polls `probe` until it returns a truthy value, and returns that; fails naming `what` after
 * `timeoutMs`. For effects that happen after an answer (jobs, events, other processes).
 */
export async function eventually<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 8000): Promise<Exclude<T, undefined | null | false | 0 | "">> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Exclude<T, undefined | null | false | 0 | "">;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
