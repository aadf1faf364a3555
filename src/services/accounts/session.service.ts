import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT, errors as joseErrors } from "jose";
import type { Pool } from "pg";
import { LruMap } from "toad-cache";
import { LoadingCache } from "../../platform/loading-cache.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { AccessClaims, TokenVerifier, VerifyResult } from "../../platform/user-token.js";

export type { AccessClaims, VerifyResult };

interface UserSessions {
  validAfter: number; // epoch ms; tokens issued before are refused
  revoked: Set<string>;
}

/**
 * Access tokens: short-lived HS256 JWTs. Verifying one costs no query: revocations (logout's
 * deny-list by jti, "log out everywhere" after a password reset) are cached per user, loaded once
 * from the database and kept current by SessionsChanged events (across processes with Redis).
 */
export class SessionService implements TokenVerifier {
  private readonly key: Uint8Array;
  /** Revocations per user, loaded once and forgotten on SessionsChanged. */
  private readonly users = new LoadingCache<string, UserSessions>({ max: 50_000, ttlMs: 60_000, load: (userId) => this.loadSessions(userId) });
  /** Token strings whose signature checked out, with their claims. */
  private readonly verified = new LruMap<AccessClaims>(50_000);

  constructor(
    secret: string,
    private readonly pool: Pool,
    private readonly bus: EventBus,
    readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
    bus.subscribe(Topic.SessionsChanged, ({ userId }) => this.forget(userId));
    // A logout or reset elsewhere may have been missed: every revocation is read again.
    bus.subscribe(Topic.BusResynced, () => this.users.clear());
  }

  async issue(userId: string): Promise<{ token: string; claims: AccessClaims }> {
    const now = Date.now();
    const iat = Math.floor(now / 1000);
    const claims: AccessClaims = { userId, jti: randomUUID(), iatMs: now, exp: iat + this.ttlSeconds };
    // iat has whole seconds; iat_ms orders a token against a revocation in the same second.
    const token = await new SignJWT({ iat_ms: now })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(userId)
      .setJti(claims.jti)
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp)
      .sign(this.key);
    return { token, claims };
  }

  async verify(token: string): Promise<VerifyResult> {
    // The signature of a token string seen before need not be checked again; expiry and
    // revocation still are, below, on every call.
    let claims = this.verified.get(token);
    if (!claims) {
      const checked = await this.checkSignature(token);
      if (!checked.ok) return checked;
      claims = checked.claims;
      this.verified.set(token, claims);
    }
    if (claims.exp * 1000 <= Date.now()) return { ok: false, reason: "expired" };
    const sessions = await this.sessionsOf(claims.userId);
    if (!sessions) return { ok: false, reason: "invalid" }; // the account is gone
    if (claims.iatMs <= sessions.validAfter || sessions.revoked.has(claims.jti)) return { ok: false, reason: "revoked", claims };
    return { ok: true, claims };
  }

  private async checkSignature(token: string): Promise<{ ok: true; claims: AccessClaims } | { ok: false; reason: "expired" | "invalid" }> {
    let claims: AccessClaims;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"] });
      if (typeof payload.sub !== "string" || typeof payload.jti !== "string" || typeof payload.exp !== "number") {
        return { ok: false, reason: "invalid" };
      }
      const iatMs = typeof payload.iat_ms === "number" ? payload.iat_ms : (payload.iat ?? 0) * 1000;
      claims = { userId: payload.sub, jti: payload.jti, iatMs, exp: payload.exp };
    } catch (error) {
      return { ok: false, reason: error instanceof joseErrors.JWTExpired ? "expired" : "invalid" };
    }
    return { ok: true, claims };
  }

  /** Deny-lists one access token until it expires. Returns false when it already was. */
  async revoke(claims: AccessClaims): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO revoked_access_tokens (jti, user_id, expires_at) VALUES ($1, $2, to_timestamp($3))
       ON CONFLICT (jti) DO NOTHING`,
      [claims.jti, claims.userId, claims.exp],
    );
    this.changed(claims.userId);
    return rowCount === 1;
  }

  /** Every access token of the user issued until now stops working. */
  async revokeAll(userId: string, db: Pick<Pool, "query"> = this.pool): Promise<void> {
    await db.query(`UPDATE users SET tokens_valid_after = to_timestamp($2 / 1000.0) WHERE id = $1`, [userId, Date.now()]);
  }

  /** Tell every process to reload this user's revocations. */
  changed(userId: string): void {
    this.forget(userId);
    this.bus.publish(Topic.SessionsChanged, { userId });
  }

  private forget(userId: string): void {
    this.users.forget(userId);
  }

  private sessionsOf(userId: string): Promise<UserSessions | undefined> {
    return this.users.get(userId);
  }

  private async loadSessions(userId: string): Promise<UserSessions | undefined> {
    const { rows } = await this.pool.query<{ valid_after: number | null; revoked: string[] }>(
      `SELECT (extract(epoch FROM tokens_valid_after) * 1000)::float8 AS valid_after,
              array(SELECT jti::text FROM revoked_access_tokens WHERE user_id = u.id AND expires_at > now()) AS revoked
         FROM users u WHERE id = $1`,
      [userId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { validAfter: Number.isFinite(row.valid_after) ? row.valid_after! : 0, revoked: new Set(row.revoked) };
  }
}
