import { unauthenticated } from "./errors.js";
import { Topic, type EventBus } from "./event-bus.js";

/** What a verified access token says. */
export interface AccessClaims {
  userId: string;
  jti: string;
  /** Issued-at in epoch milliseconds (the `iat_ms` claim), expiry in epoch seconds. */
  iatMs: number;
  exp: number;
}

/** Why a request has no user. */
export type AuthFailure = "missing" | "expired" | "invalid" | "revoked";

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: Exclude<AuthFailure, "missing">; claims?: AccessClaims };

/** Checks an access token (the accounts feature's SessionService). */
export interface TokenVerifier {
  verify(token: string): Promise<VerifyResult>;
}

/**
 * The one table of authentication failures: the message every transport shows (GraphQL error,
 * REST `detail`, WebSocket close reason, SSE error), its HTTP status and its WebSocket close code.
 */
export const AUTH_FAILURES: Readonly<Record<AuthFailure, { message: string; status: 401; closeCode: 4401 | 4403 }>> = {
  missing: { message: "Sign in: this operation needs an access token", status: 401, closeCode: 4401 },
  expired: { message: "Access token expired: refresh it", status: 401, closeCode: 4403 },
  revoked: { message: "Access token was revoked: log in again", status: 401, closeCode: 4403 },
  invalid: { message: "Access token is invalid", status: 401, closeCode: 4403 },
};

/** The access token of an `Authorization: Bearer <token>` header. */
export function bearerOf(header: string | string[] | null | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/** The access token of graphql-ws `connectionParams` (`authorization`, with or without "Bearer"). */
export function tokenOfParams(params: Record<string, unknown> | undefined | null): string | undefined {
  const raw = params?.authorization ?? params?.Authorization ?? params?.token;
  if (typeof raw !== "string" || raw.trim() === "") return undefined;
  return raw.replace(/^Bearer\s+/i, "").trim();
}

/** A token checked: the caller, or why there is none. */
export type Authentication =
  | { ok: true; token: string; claims: AccessClaims }
  | { ok: false; reason: AuthFailure; /** a correctly signed but revoked token (logout accepts it) */ claims?: AccessClaims };

export async function authenticate(verifier: TokenVerifier, token: string | undefined): Promise<Authentication> {
  if (!token) return { ok: false, reason: "missing" };
  const result = await verifier.verify(token);
  return result.ok ? { ok: true, token, claims: result.claims } : result;
}

/** The caller's claims; UNAUTHENTICATED with the table's message otherwise. */
export function claimsOf(auth: Authentication): AccessClaims {
  if (auth.ok) return auth.claims;
  throw unauthenticated(AUTH_FAILURES[auth.reason].message);
}

/**
 * Ends a long-lived stream (WebSocket, SSE) when its access token expires or is revoked (logout,
 * password reset, account deletion, in any process). `end` is called at most once, with the reason;
 * the returned function stops watching (call it when the stream ends for another reason).
 */
export function endOnExpiryOrRevoke(
  bus: EventBus,
  verifier: TokenVerifier,
  session: { token: string; claims: AccessClaims },
  end: (reason: AuthFailure) => void,
): () => void {
  let done = false;
  const finish = (reason: AuthFailure) => {
    if (done) return;
    stop();
    end(reason);
  };
  const timer = setTimeout(() => finish("expired"), Math.max(0, session.claims.exp * 1000 - Date.now()));
  timer.unref();
  const unsubscribe = bus.subscribe(Topic.SessionsChanged, ({ userId }) => {
    if (userId !== session.claims.userId || done) return;
    verifier.verify(session.token).then(
      (result) => {
        if (!result.ok) finish(result.reason);
      },
      () => undefined, // the store is unreachable: keep the stream; the expiry still ends it
    );
  });
  const stop = () => {
    done = true;
    clearTimeout(timer);
    unsubscribe();
  };
  return stop;
}
