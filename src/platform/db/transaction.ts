import type { Pool, PoolClient } from "pg";

const ignore = () => undefined;

/**
 * A pooled client for a few statements. While checked out, a client whose connection dies emits
 * 'error' outside any query; without a listener that would crash the process. The failure still
 * reaches the caller through the next query, and the broken client is discarded, not reused.
 */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  client.on("error", ignore);
  let broken: unknown;
  try {
    return await fn(client);
  } catch (error) {
    broken = error;
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(broken !== undefined && !isStatementError(broken));
  }
}

/** An error PostgreSQL raised for a statement (constraint, syntax...): the connection itself is fine. */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08") && !code.startsWith("57P");
}

/** BEGIN … COMMIT around `fn`, rolled back on any error. */
export function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(ignore);
      throw error;
    }
  });
}
