import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { AppError, isDatabaseUnavailable } from "../platform/errors.js";

/** Codes GraphQL itself produces for a malformed request, passed through as they are. */
const CLIENT_CODES = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "OPERATION_RESOLUTION_FAILURE"]);

/**
 * Every error leaves with a stable `extensions.code` from the catalogue. Unknown errors become
 * INTERNAL_SERVER_ERROR without their message (it may hold internals) and are logged.
 */
export function formatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    if (original instanceof AppError) return { ...base, message: original.message, extensions: { code: original.code } };
    if (original instanceof GraphQLError && original !== error && typeof original.extensions?.code === "string") {
      return { ...base, message: original.message, extensions: { code: original.extensions.code } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === "string" && CLIENT_CODES.has(code)) return { ...base, extensions: { code } };
    if (isDatabaseUnavailable(original)) return { ...base, message: "Storage is unavailable; retry later", extensions: { code: "SERVICE_UNAVAILABLE" } };
    log.error({ err: original }, "unhandled GraphQL error");
    return { ...base, message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
