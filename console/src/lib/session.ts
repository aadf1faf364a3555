/**
 * The signed-in user's tokens, kept in localStorage so a reload stays signed in. Access tokens are
 * short-lived; the refresh token is single use (every refresh returns a new one), so refreshes are
 * made one at a time per tab, and a tab that lost the race to another tab picks up that tab's pair.
 */
export interface SessionUser {
  id: string;
  username: string;
  email: string;
}
export interface Session {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
}

const KEY = "thingsnxt.session";
const listeners = new Set<(session: Session | null) => void>();

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

let current = load();

export const getSession = (): Session | null => current;

export function setSession(session: Session | null): void {
  current = session;
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  for (const listener of listeners) listener(session);
}

export function onSession(listener: (session: Session | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Another tab signed in, out, or rotated the pair.
window.addEventListener("storage", (event) => {
  if (event.key !== KEY) return;
  current = load();
  for (const listener of listeners) listener(current);
});

/** Expiry of a JWT in epoch ms (0 when unreadable: treated as expired). */
function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number };
    return (payload.exp ?? 0) * 1000;
  } catch {
    return 0;
  }
}

const REFRESH = `mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) { accessToken refreshToken user { id username email } } }`;
let refreshing: Promise<string | null> | undefined;

/** A new pair for the current refresh token; null (and signed out) when the server refuses it. */
export function refresh(): Promise<string | null> {
  refreshing ??= (async () => {
    const before = current;
    if (!before) return null;
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: REFRESH, variables: { refreshToken: before.refreshToken } }),
    });
    const body = (await response.json()) as { data?: { refreshToken?: Session } };
    const pair = body.data?.refreshToken;
    if (pair) {
      setSession(pair);
      return pair.accessToken;
    }
    const stored = load();
    if (stored && stored.refreshToken !== before.refreshToken) {
      current = stored; // another tab rotated it first
      return stored.accessToken;
    }
    if (current === before) setSession(null);
    return null;
  })().finally(() => (refreshing = undefined));
  return refreshing;
}

/** The access token to send, refreshed first when it expires within 30 s. */
export async function accessToken(): Promise<string | null> {
  if (!current) return null;
  if (expiryOf(current.accessToken) - Date.now() > 30_000) return current.accessToken;
  return refresh();
}
