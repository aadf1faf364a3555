import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface Live<T = any> {
  /** Every message received so far. */
  readonly events: T[];
  /** Resolves with the next message (or the first one not yet taken), rejects after `ms`. */
  next(ms?: number): Promise<T>;
  /**
   * Resolves with the subscription's errors: an `error` message (validation), or, as graphql-js does
   * for an error thrown while subscribing, a `next` carrying `errors` followed by `complete`.
   */
  readonly error: Promise<any>;
  readonly closed: Promise<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

/** A graphql-ws client as the app uses it, with the token in connectionParams. */
export function connect(base: string, params: Record<string, unknown> | undefined): { client: Client; closed: Promise<{ code: number; reason: string }> } {
  let onClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${base.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: params,
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => onClosed({ code: (event as { code: number }).code, reason: (event as { reason: string }).reason }) },
    onNonLazyError: () => undefined,
  });
  return { client, closed };
}

export async function subscribe<T = any>(base: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<Live<T>> {
  const { client, closed } = connect(base, token === undefined ? undefined : { authorization: `Bearer ${token}` });
  const events: T[] = [];
  let taken = 0;
  const waiters: Array<() => void> = [];
  let onError!: (error: unknown) => void;
  const error = new Promise((resolve) => (onError = resolve));
  const acked = new Promise<void>((resolve) => client.on("connected", () => resolve()));
  client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors && !value.data) return onError(value.errors);
        events.push((value.data ?? value) as T);
        waiters.splice(0).forEach((w) => w());
      },
      error: onError,
      complete: () => undefined,
    },
  );
  await Promise.race([acked, closed]);
  // Give the server a moment to register the subscription before the test acts.
  await new Promise((r) => setTimeout(r, 30));
  return {
    events,
    error,
    closed,
    async next(ms = 3000) {
      const deadline = Date.now() + ms;
      while (events.length <= taken) {
        if (Date.now() > deadline) throw new Error(`no subscription message within ${ms} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return events[taken++]!;
    },
    async dispose() {
      await client.dispose();
    },
  };
}

export interface WsResult<T = any> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } }>;
  /** The socket closed before a result (a message over `maxPayload`, an authentication failure). */
  closed?: { code: number; reason: string };
}

/**
 * The first result of one operation on an open client: a `next` payload, or the errors of an
 * `error` message (refused at subscribe: validation, limits, caps).
 */
export function execute<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}, operationName?: string): Promise<WsResult<T>> {
  return new Promise((resolve) => {
    client.subscribe<T>(
      { query, variables, ...(operationName ? { operationName } : {}) },
      {
        next: (value) => resolve(value as WsResult<T>),
        error: (error) =>
          resolve(
            Array.isArray(error) ? { errors: error } : { closed: { code: (error as { code: number }).code, reason: (error as { reason: string }).reason } },
          ),
        complete: () => resolve({}),
      },
    );
  });
}

/** One operation over its own socket, authenticated with `token`. */
export async function request<T = any>(
  base: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
): Promise<WsResult<T>> {
  const { client } = connect(base, { authorization: `Bearer ${token}` });
  try {
    return await execute<T>(client, query, variables, operationName);
  } finally {
    await client.dispose();
  }
}
