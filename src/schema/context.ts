import DataLoader from "dataloader";
import type { FastifyRequest } from "fastify";
import type { AuthChecker } from "type-graphql";
import type { Services } from "../platform/services.js";
import { authenticate, bearerOf, claimsOf, type AccessClaims, type AuthFailure } from "../platform/user-token.js";

export interface GqlContext {
  readonly services: Services;
  /** The caller, when the access token verified and is not revoked. */
  readonly user: AccessClaims | undefined;
  /** Why there is no user although a token was sent. */
  readonly authFailure: AuthFailure | undefined;
  /** Claims of a correctly signed but revoked token: logout accepts it, to answer alreadyLoggedOut. */
  readonly presented: AccessClaims | undefined;
  readonly ip: string;
  /** Per-request DataLoaders, created on first use by `loaderOf`. */
  readonly loaders: Map<string, DataLoader<unknown, unknown>>;
}

export { bearerOf };

export async function contextFor(services: Services, token: string | undefined, ip: string): Promise<GqlContext> {
  const base = { services, ip, loaders: new Map() };
  const auth = await authenticate(services.sessions, token);
  if (auth.ok) return { ...base, user: auth.claims, authFailure: undefined, presented: auth.claims };
  return { ...base, user: undefined, authFailure: auth.reason, presented: auth.claims };
}

export function httpContext(services: Services, request: FastifyRequest): Promise<GqlContext> {
  return contextFor(services, bearerOf(request.headers.authorization), request.ip);
}

/** The caller's id; throws UNAUTHENTICATED (with the reason's message) when there is none. */
export function userIdOf(ctx: GqlContext): string {
  return claimsOf(ctx.user ? { ok: true, token: "", claims: ctx.user } : { ok: false, reason: ctx.authFailure ?? "missing" }).userId;
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
