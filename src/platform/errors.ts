/**
 * The catalogue of errors a client may see. Each has a stable code; GraphQL puts it in
 * `extensions.code`, REST maps it to a status through `httpStatusOf`. Anything else that reaches an
 * adapter is an internal error and is reported without its message.
 */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "CONFLICT"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

const STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  CONFLICT: 409,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const badInput = (message: string) => new AppError("BAD_USER_INPUT", message);
/** What a client can look up by id; every miss reads the same: "Device not found". */
export type Resource = "account" | "dashboard" | "device" | "notification" | "rule" | "schedule" | "webhook" | "widget";

/** Unknown ids and ids of someone else are the same NOT_FOUND: existence is never revealed. */
export const notFound = (what: Resource) => new AppError("NOT_FOUND", `${what[0]!.toUpperCase()}${what.slice(1)} not found`);
/** A device token that is missing, wrong, or another device's. */
export const invalidDeviceToken = () => new AppError("FORBIDDEN", "Invalid device token");
export const unauthenticated = (message: string) => new AppError("UNAUTHENTICATED", message);
export const unavailable = (message = "Storage is unavailable; nothing was stored, retry later") => new AppError("SERVICE_UNAVAILABLE", message);

/** Every code with its HTTP status, as the README's error table lists them. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = STATUS;

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code];
}

const FK_RESOURCE: Record<string, Resource> = {
  device_id: "device",
  dashboard_id: "dashboard",
  widget_id: "widget",
  webhook_id: "webhook",
  rule_id: "rule",
  user_id: "account",
  owner_id: "account",
};

/**
 * A foreign-key violation is a row that went away between the check and the insert (a deletion
 * racing a create): for the client that is NOT_FOUND of what it referenced, never a 500.
 */
export function notFoundOfForeignKey(error: unknown): AppError | undefined {
  const e = error as { code?: unknown; constraint?: unknown; detail?: unknown };
  if (e?.code !== "23503") return undefined;
  const text = `${typeof e.constraint === "string" ? e.constraint : ""} ${typeof e.detail === "string" ? e.detail : ""}`;
  const column = Object.keys(FK_RESOURCE).find((c) => text.includes(c));
  return notFound(column ? FK_RESOURCE[column]! : "device");
}

/** PostgreSQL and driver failures that mean "the database is not reachable right now". */
// 57P0x: server shutting down or connection terminated; 08xxx: connection failures; 53300: too many
// connections; 55000: database not accepting connections; 3D000: database gone.
const CONNECTION_SQLSTATES = new Set(["57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004", "53300", "55000", "3D000"]);
const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_SQLSTATES.has(code) || CONNECTION_ERRNOS.has(code))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end|Query read timeout|canceling statement due to statement timeout/i.test(
    error.message,
  );
}
