import { createHash } from "node:crypto";
import { AppError, badInput } from "../../platform/errors.js";

/** The checks of account fields, with the messages clients see. */

export const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USERNAME_RE = /^[A-Za-z0-9_-]{3,32}$/;

export function checkPassword(password: string): void {
  if (password.length < 8 || password.length > 72) throw badInput("password must be 8 to 72 characters");
  if (!/[a-z]/.test(password) || !/[A-Z]/.test(password) || !/\d/.test(password)) {
    throw badInput("password needs a lower case letter, an upper case letter and a digit");
  }
}

export function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !EMAIL_RE.test(trimmed)) throw badInput("email is not a valid address");
  return trimmed;
}

export function checkUsername(username: string): string {
  if (!USERNAME_RE.test(username)) throw badInput("username must be 3 to 32 characters of A-Z a-z 0-9 _ -");
  return username;
}

export function optionalText(value: string | null | undefined, name: string, max: number): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length > max) throw badInput(`${name} must be at most ${max} characters`);
  return trimmed.length === 0 ? null : trimmed;
}

/** Turns a unique violation on users into a clear CONFLICT. */
export function conflictOf(error: unknown): unknown {
  const e = error as { code?: string; constraint?: string };
  if (e.code !== "23505") return error;
  return new AppError("CONFLICT", e.constraint?.includes("username") ? "username is already taken" : "email is already registered");
}
