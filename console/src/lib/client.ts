import { cacheExchange, Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";
import { accessToken, getSession, refresh } from "./session";

/** Sends the access token; an UNAUTHENTICATED answer gets one refresh and one retry. */
const authFetch: typeof fetch = async (input, init) => {
  const send = (token: string | null) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const response = await send(await accessToken());
  if (!getSession()) return response;
  const body = (await response
    .clone()
    .json()
    .catch(() => null)) as { errors?: Array<{ extensions?: { code?: string } }> } | null;
  if (!body?.errors?.some((e) => e.extensions?.code === "UNAUTHENTICATED")) return response;
  const token = await refresh();
  return token ? send(token) : response;
};

/**
 * One client per signed-in session: queries and mutations over POST /graphql, subscriptions over one
 * graphql-ws socket. The socket is authenticated when it opens; when the server closes it because the
 * access token expired, it reconnects with a refreshed one and resubscribes.
 */
export function createApiClient(): { client: Client; dispose(): void } {
  const ws = createWsClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    lazy: true,
    connectionParams: async () => {
      const token = await accessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    shouldRetry: () => getSession() !== null,
    retryAttempts: 1_000_000,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2))),
  });
  const client = new Client({
    url: "/graphql",
    fetch: authFetch,
    // Apollo's CSRF guard wants POST with JSON (or a preflight header on GET).
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}
