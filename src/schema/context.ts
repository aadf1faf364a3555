import DataLoader from "dataloader";
import type { FastifyRequest } from "fastify";
import type { AuthChecker } from "type-graphql";
import type { Services } from "../app/services.js";
import { unauthenticated } from "../platform/errors.js";
import type { AccessClaims } from "../services/accounts/session.service.js";

export interface GqlContext {
  readonly services: Services;
  /** The caller, when the access token verified and is not revoked. */
  readonly user: AccessClaims | undefined;
  /** Why there is no user although a token was sent. */
  readonly authFailure: "expired" | "invalid" | "revoked" | undefined;
  /** Claims of a correctly signed but revoked token: logout accepts it, to answer alreadyLoggedOut. */
  readonly presented: AccessClaims | undefined;
  readonly ip: string;
  /** Per-request DataLoaders, created on first use by `loaderOf`. */
  readonly loaders: Map<string, DataLoader<unknown, unknown>>;
}

export function bearerOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export async function contextFor(services: Services, token: string | undefined, ip: string): Promise<GqlContext> {
  const base = { services, ip, loaders: new Map() };
  if (!token) return { ...base, user: undefined, authFailure: undefined, presented: undefined };
  const result = await services.sessions.verify(token);
  if (result.ok) return { ...base, user: result.claims, authFailure: undefined, presented: result.claims };
  return { ...base, user: undefined, authFailure: result.reason, presented: result.claims };
}

export function httpContext(services: Services, request: FastifyRequest): Promise<GqlContext> {
  return contextFor(services, bearerOf(request.headers.authorization), request.ip);
}

/** The caller's id; throws UNAUTHENTICATED (with the reason) when there is none. */
export function userIdOf(ctx: GqlContext): string {
  if (ctx.user) return ctx.user.userId;
  throw unauthenticated(
    ctx.authFailure === "expired"
      ? "Access token expired: refresh it"
      : ctx.authFailure === "revoked"
        ? "Access token was revoked: log in again"
        : ctx.authFailure === "invalid"
          ? "Access token is invalid"
          : "Sign in: this operation needs an access token",
  );
}

/** `@Authorized()` on a field or operation: the caller must be signed in. */
export const authChecker: AuthChecker<GqlContext> = ({ context }) => {
  userIdOf(context);
  return true;
};

/**
 * A DataLoader that lives for one request. Each resolver module names its own loaders, so relations
 * at any depth cost one query per level, not one per object.
 */
export function loaderOf<K, V>(ctx: GqlContext, name: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>): DataLoader<K, V> {
  let loader = ctx.loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(batch);
    ctx.loaders.set(name, loader as DataLoader<unknown, unknown>);
  }
  return loader;
}
