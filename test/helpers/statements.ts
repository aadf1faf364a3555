import pg from "pg";

/**
 * Every SQL statement the server's code sends while `fn` runs (the server runs in this process).
 * The job worker's own polling (graphile_worker.*) runs on its own schedule and is left out, so
 * counts are about the code under test. Counting wraps the real client: every query still runs.
 */
export async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    const text = typeof config === "string" ? config : config?.text;
    if (typeof text === "string" && !/graphile_worker/.test(text)) seen.push(text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}
