import { randomBytes, randomUUID } from "node:crypto";
import { checkTimeZone } from "../../platform/time-zones.js";
import { deleteHistoryOf } from "../../platform/db/history-purge.js";
import argon2 from "argon2";
import type { Pool, PoolClient } from "pg";
import type { DataSource } from "typeorm";
import type { Config } from "../../platform/config.js";
import { withTransaction } from "../../platform/db/transaction.js";
import { User } from "../../entities/user.entity.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import { badInput, notFound, unauthenticated } from "../../platform/errors.js";
import type { Mailer } from "../../platform/mailer.js";
import type { AccessClaims, SessionService } from "./session.service.js";
import { checkEmail, checkPassword, checkUsername, conflictOf, optionalText, sha256 } from "./account.rules.js";

// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
const ARGON2 = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const RESET_TTL_MS = 3600_000; // 1 h

export interface RegisterInput {
  email: string;
  username: string;
  password: string;
  fullName?: string | null;
}

export interface ProfileInput {
  email?: string | null;
  username?: string | null;
  fullName?: string | null;
  phone?: string | null;
  bio?: string | null;
  timeZone?: string | null;
  notificationSettings?: { enabled?: boolean | null; email?: boolean | null; push?: boolean | null } | null;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  user: User;
}

/** Accounts and sessions: registration, login, refresh-token rotation, logout, password reset. */
export class AuthService {
  /** A hash to verify against when the login name is unknown, so both cases take the same time. */
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: Pool,
    private readonly sessions: SessionService,
    private readonly mailer: Mailer,
    private readonly bus: EventBus,
    private readonly config: Config,
  ) {
    this.dummyHash = argon2.hash(randomBytes(16).toString("hex"), ARGON2);
  }

  private get users() {
    return this.dataSource.getRepository(User);
  }

  async register(input: RegisterInput): Promise<Tokens> {
    const email = checkEmail(input.email);
    const username = checkUsername(input.username);
    checkPassword(input.password);
    const fullName = optionalText(input.fullName, "fullName", 100) ?? null;
    const passwordHash = await argon2.hash(input.password, ARGON2);
    let user: User;
    try {
      user = await this.users.save(this.users.create({ email, username, fullName, passwordHash, tokensValidAfter: new Date(0) }));
    } catch (error) {
      throw conflictOf(error);
    }
    return this.issue(user, randomUUID());
  }

  async login(login: string, password: string): Promise<Tokens> {
    const user = await this.users
      .createQueryBuilder("u")
      .where("lower(u.email) = lower(:login) OR lower(u.username) = lower(:login)", { login: login.trim() })
      .getOne();
    const ok = await argon2.verify(user?.passwordHash ?? (await this.dummyHash), password).catch(() => false);
    if (!user || !user.passwordHash || !ok) throw unauthenticated("Wrong login or password");
    return this.issue(user, randomUUID());
  }

  /** Rotation: each refresh token works once. A second use means it leaked: its whole family is revoked. */
  async refresh(refreshToken: string): Promise<Tokens> {
    const outcome = await withTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ id: string; user_id: string; family_id: string; expires_at: Date; used_at: Date | null; revoked_at: Date | null }>(
        `SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [sha256(refreshToken)],
      );
      const row = rows[0];
      if (!row) return { error: "unknown" as const };
      if (row.used_at || row.revoked_at) {
        await db.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [row.family_id]);
        return { error: "reused" as const };
      }
      if (row.expires_at.getTime() <= Date.now()) return { error: "expired" as const };
      await db.query(`UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, [row.id]);
      return { userId: row.user_id, familyId: row.family_id };
    });
    if ("error" in outcome) {
      throw unauthenticated(
        outcome.error === "reused" ? "Refresh token was already used; every session of it has been revoked" : "Refresh token is invalid or expired",
      );
    }
    const user = await this.users.findOneBy({ id: outcome.userId });
    if (!user) throw unauthenticated("Refresh token is invalid or expired");
    return this.issue(user, outcome.familyId);
  }

  /**
   * Revokes the user's refresh tokens and the presented access token. Idempotent: a second call
   * (or a call with a token that no longer verifies) succeeds with alreadyLoggedOut.
   */
  async logout(claims: AccessClaims | undefined): Promise<{ message: string; tokensDeleted: number; alreadyLoggedOut: boolean }> {
    if (!claims) return { message: "Already logged out", tokensDeleted: 0, alreadyLoggedOut: true };
    const { rowCount } = await this.pool.query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL AND expires_at > now()`,
      [claims.userId],
    );
    const newlyRevoked = await this.sessions.revoke(claims);
    const tokensDeleted = rowCount ?? 0;
    const alreadyLoggedOut = !newlyRevoked && tokensDeleted === 0;
    return { message: alreadyLoggedOut ? "Already logged out" : "Logged out", tokensDeleted, alreadyLoggedOut };
  }

  async me(userId: string): Promise<User> {
    const user = await this.users.findOneBy({ id: userId });
    if (!user) throw unauthenticated("The account no longer exists");
    return user;
  }

  async updateMe(userId: string, input: ProfileInput): Promise<User> {
    const user = await this.me(userId);
    if (input.email != null) user.email = checkEmail(input.email);
    if (input.username != null) user.username = checkUsername(input.username);
    for (const [field, max] of [
      ["fullName", 100],
      ["phone", 32],
      ["bio", 500],
    ] as const) {
      const value = optionalText(input[field], field, max);
      if (value !== undefined) user[field] = value;
    }
    if (input.timeZone != null) user.timeZone = input.timeZone === "" ? null : checkTimeZone(input.timeZone);
    const n = input.notificationSettings;
    if (n?.enabled != null) user.notifyEnabled = n.enabled;
    if (n?.email != null) user.notifyEmail = n.email;
    if (n?.push != null) user.notifyPush = n.push;
    try {
      return await this.users.save(user);
    } catch (error) {
      throw conflictOf(error);
    }
  }

  /** Everything the user owns goes in one transaction (devices cascade to state, widgets, ...; history by hand). */
  async deleteMe(userId: string): Promise<boolean> {
    const deviceIds = await withTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ id: string }>(`SELECT id FROM devices WHERE owner_id = $1`, [userId]);
      const ids = rows.map((r) => r.id);
      // Lock the state rows so in-flight ingest batches finish first (see DeviceService.delete).
      await db.query(`SELECT 1 FROM device_state WHERE device_id = ANY($1::uuid[]) FOR UPDATE`, [ids]);
      await deleteHistoryOf(db, ids);
      const { rowCount } = await db.query(`DELETE FROM users WHERE id = $1`, [userId]);
      if (!rowCount) throw notFound("account");
      return ids;
    });
    for (const deviceId of deviceIds) this.bus.publish(Topic.DeviceCredentialsChanged, { deviceId });
    this.sessions.changed(userId);
    return true;
  }

  /** Same answer whether or not the email exists; the mail carries a single-use token valid 1 h. */
  async requestPasswordReset(email: string): Promise<boolean> {
    const user = await this.users.createQueryBuilder("u").where("lower(u.email) = lower(:email)", { email: email.trim() }).getOne();
    if (!user) return true;
    const token = randomBytes(32).toString("base64url");
    await this.pool.query(`INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
      user.id,
      sha256(token),
      new Date(Date.now() + RESET_TTL_MS),
    ]);
    // Sent in the background: waiting for SMTP would make the answer slower for existing emails.
    void this.mailer
      .send({
        to: user.email,
        subject: "Reset your ThingsNXT password",
        text: `Someone asked to reset the password of ${user.username}. The link works once, for one hour:\n\n${this.config.passwordResetUrl}${token}\n\nIf it was not you, ignore this mail.`,
      })
      .catch(() => undefined);
    return true;
  }

  /** Sets the new password, uses the token up and revokes every session of the account. */
  async resetPassword(token: string, newPassword: string): Promise<boolean> {
    checkPassword(newPassword);
    const passwordHash = await argon2.hash(newPassword, ARGON2);
    const userId = await withTransaction(this.pool, async (db: PoolClient) => {
      const { rows } = await db.query<{ user_id: string }>(
        `UPDATE password_resets SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id`,
        [sha256(token)],
      );
      const row = rows[0];
      if (!row) return undefined;
      await this.replacePassword(db, row.user_id, passwordHash);
      return row.user_id;
    });
    if (!userId) throw badInput("The reset link is invalid, expired or already used");
    this.sessions.changed(userId);
    return true;
  }

  /** The operator's reset (`npm run admin -- reset-password`): by login, without a mailed link. */
  async setPassword(login: string, newPassword: string): Promise<User> {
    checkPassword(newPassword);
    const user = await this.users
      .createQueryBuilder("u")
      .where("lower(u.email) = lower(:login) OR lower(u.username) = lower(:login)", { login: login.trim() })
      .getOne();
    if (!user) throw notFound("account");
    const passwordHash = await argon2.hash(newPassword, ARGON2);
    await withTransaction(this.pool, (db) => this.replacePassword(db, user.id, passwordHash));
    this.sessions.changed(user.id);
    return user;
  }

  /** A new password ends every session: reset links, refresh tokens and access tokens issued before. */
  private async replacePassword(db: PoolClient, userId: string, passwordHash: string): Promise<void> {
    await db.query(`UPDATE users SET password_hash = $1, updated_at = now() WHERE id = $2`, [passwordHash, userId]);
    await db.query(`UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [userId]);
    await db.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
    await this.sessions.revokeAll(userId, db);
  }

  private async issue(user: User, familyId: string): Promise<Tokens> {
    const { token: accessToken } = await this.sessions.issue(user.id);
    const refreshToken = randomBytes(32).toString("base64url");
    await this.pool.query(`INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`, [
      user.id,
      familyId,
      sha256(refreshToken),
      new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000),
    ]);
    return { accessToken, refreshToken, tokenType: "Bearer", user };
  }
}
