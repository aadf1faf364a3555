import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { AppError, isDatabaseUnavailable, notFoundOfForeignKey } from "../platform/errors.js";

/** Codes GraphQL itself produces for a malformed request, passed through as they are. */
const CLIENT_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "OPERATION_RESOLUTION_FAILURE",
]);

/**
 * Every error leaves with a stable `extensions.code` from the catalogue. Unknown errors become
 * INTERNAL_SERVER_ERROR without their message (it may hold internals) and are logged.
 */
export function formatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const raw = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    // A row deleted between a check and an insert that references it: NOT_FOUND, not a 500.
    const original = notFoundOfForeignKey(raw) ?? raw;
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

/** What Fastify refuses before GraphQL runs, by its error code: the code and message a client gets. */
const FASTIFY_REFUSALS: Record<string, [code: string, message: string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ["BAD_USER_INPUT", "Request body is larger than the limit"],
  // Fastify's JSON parser refuses prototype keys itself, under the same error as broken JSON.
  FST_ERR_CTP_INVALID_JSON_BODY: ["BAD_USER_INPUT", "Request body is not valid JSON, or holds a __proto__ or constructor.prototype key, which is not allowed"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["BAD_REQUEST", "Request body is empty; send a JSON object"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["BAD_REQUEST", "Content-Type must be application/json"],
};

/**
 * The error handler of the GraphQL routes: refusals of the body (too large, not JSON) in GraphQL's
 * `{"errors"}` shape with a code, not in the REST routes' `{"detail"}` shape.
 */
export function graphqlErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error }, "unhandled error on a GraphQL route");
  const [code, message] =
    status === 500 ? ["INTERNAL_SERVER_ERROR", "Internal server error"] : (FASTIFY_REFUSALS[error.code] ?? ["BAD_REQUEST", error.message]);
  void reply.status(status).send({ errors: [{ message, extensions: { code } }] });
}
