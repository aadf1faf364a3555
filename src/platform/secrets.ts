import { createHash, randomBytes } from "node:crypto";
import type { Pool } from "pg";

/**
 * A server-wide secret: from the environment when given, else generated once and kept in the
 * database, so every process sharing the database agrees without configuration. (Setting the
 * variable in production keeps the key out of database backups.)
 */
export async function serverSecret(pool: Pool, name: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  await pool.query(`INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, randomBytes(32).toString("base64url")]);
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM app_secrets WHERE name = $1`, [name]);
  return rows[0]!.value;
}

/** Device tokens are stored and looked up by this digest, never in plain text. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
