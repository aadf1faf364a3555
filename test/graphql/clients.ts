import { request as overWs, type WsResult } from "../helpers/ws.js";

/** What a client sees of one operation, whichever the transport. */
export interface Result<T = any> extends WsResult<T> {
  /** HTTP status (HTTP and SSE). */
  status?: number;
}

export const TRANSPORTS = ["http", "ws", "sse"] as const;
export type Transport = (typeof TRANSPORTS)[number];

const headersOf = (token: string | undefined, accept: string) => ({
  "content-type": "application/json",
  accept,
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

/** POST /graphql (with an operation name, which the shared `gql` helper does not send). */
export async function overHttp<T = any>(
  base: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
): Promise<Result<T>> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: headersOf(token, "application/json"),
    body: JSON.stringify({ query, variables, operationName }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

export interface Frame {
  event: string;
  data: any;
}

/** SSE frames until `complete`, `enough` of them, the end of the body, or `ms`. */
export async function readFrames(response: Response, ms = 3000, enough = Infinity): Promise<Frame[]> {
  const reader = response.body!.getReader();
  const frames: Frame[] = [];
  let text = "";
  const timer = setTimeout(() => void reader.cancel().catch(() => undefined), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      let cut;
      while ((cut = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, cut);
        text = text.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) frames.push({ event, data: data ? JSON.parse(data) : null });
        if (event === "complete" || frames.length >= enough) return frames;
      }
    }
  } catch {
    // cancelled at the deadline: what arrived counts
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
  return frames;
}

/** A graphql-sse stream (distinct connections mode) at /graphql/stream. */
export function openStream(base: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  const abort = new AbortController();
  const response = fetch(`${base}/graphql/stream`, {
    method: "POST",
    headers: headersOf(token, "text/event-stream"),
    body: JSON.stringify({ query, variables, operationName }),
    signal: abort.signal,
  });
  return { response, close: () => abort.abort() };
}

/** One operation over SSE: the first `next` payload, or the JSON body of a refused request. */
export async function overSse<T = any>(
  base: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
  ms = 3000,
): Promise<Result<T>> {
  const stream = openStream(base, token, query, variables, operationName);
  const response = await stream.response;
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) return { status: response.status, ...((await response.json()) as object) };
  const next = (await readFrames(response, ms)).find((f) => f.event === "next");
  stream.close();
  return { status: response.status, ...(next?.data ?? {}) };
}

/** The same operation over the chosen transport; ws and sse need a token. */
export function over<T = any>(
  transport: Transport,
  base: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
): Promise<Result<T>> {
  if (transport === "http") return overHttp<T>(base, token, query, variables, operationName);
  if (transport === "ws") return overWs<T>(base, token!, query, variables, operationName);
  return overSse<T>(base, token, query, variables, operationName);
}

/** The code of the first error; undefined when there is none. */
export const codeOf = (result: Result): string | undefined => result.errors?.[0]?.extensions?.code;
