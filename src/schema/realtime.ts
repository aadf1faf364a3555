import type { FastifyInstance } from "fastify";
import type { Context } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import type { GraphQLSchema } from "graphql";
import { WebSocketServer, type WebSocket } from "ws";
import type { Services } from "../platform/services.js";
import { SlowConsumerError } from "../platform/live.js";
import { AUTH_FAILURES, authenticate, endOnExpiryOrRevoke, tokenOfParams, type AccessClaims } from "../platform/user-token.js";
import { contextFor } from "./context.js";
import { formatError } from "./errors.js";
import { prepareOperation } from "./limits.js";
import type { SocketSubscriptions, SubscriptionCaps } from "./subscription-caps.js";

/** Close codes beyond graphql-ws's own (4401 unauthorized, 4403 forbidden). */
export const CLOSE_SLOW_CONSUMER = 4413;
const MAX_BUFFERED_BYTES = 1024 * 1024; // a subscriber this far behind is dropped
const KEEP_ALIVE_MS = 12_000;

interface Session {
  token: string;
  claims: AccessClaims;
  ip: string;
}
type Attached = { session?: Session; subscriptions?: SocketSubscriptions };
type Extras = Extra & Attached;

/**
 * graphql-ws at ws://…/graphql on the same HTTP server. Sockets authenticate at connection_init;
 * a socket is closed (4401 without a token, 4403 otherwise) when its access token expires or is
 * revoked, so the client reconnects with a fresh token.
 */
export function installSubscriptions(app: FastifyInstance, services: Services, schema: GraphQLSchema, caps: SubscriptionCaps): { close(): Promise<void> } {
  const production = services.config.nodeEnv === "production";
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const log = services.log;

  app.server.on("upgrade", (request, socket, head) => {
    if (new URL(request.url ?? "/", "http://x").pathname !== "/graphql") {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  });

  // Expiry, logout, password reset, account deletion: the socket closes with the reason's code.
  const track = (socket: WebSocket, session: Session) => {
    const stop = endOnExpiryOrRevoke(services.bus, services.sessions, session, (reason) =>
      socket.close(AUTH_FAILURES[reason].closeCode, AUTH_FAILURES[reason].message),
    );
    socket.once("close", stop);
  };

  const server = useServer<Record<string, unknown>, Attached>(
    {
      schema,
      onConnect: async (ctx: Context<Record<string, unknown>, Extras>) => {
        const socket = ctx.extra.socket;
        const auth = await authenticate(services.sessions, tokenOfParams(ctx.connectionParams));
        if (!auth.ok) {
          socket.close(AUTH_FAILURES[auth.reason].closeCode, AUTH_FAILURES[auth.reason].message);
          return false;
        }
        const session = { token: auth.token, claims: auth.claims, ip: ctx.extra.request.socket.remoteAddress ?? "" };
        const subscriptions = caps.socket();
        Object.assign(ctx.extra, { session, subscriptions });
        track(socket, session);
        socket.once("close", () => subscriptions.releaseAll());
        return true;
      },
      // The same checks as over HTTP (text bounds, parse, validation, inputs, cost, variables), then the caps.
      onSubscribe: async (ctx: Context<Record<string, unknown>, Extras>, id, payload) => {
        const prepared = prepareOperation(schema, payload, production);
        if (Array.isArray(prepared)) return prepared;
        const session = ctx.extra.session!;
        const subscriptions = ctx.extra.subscriptions!;
        if (prepared.operation.operation === "subscription") {
          const refused = subscriptions.take(id, session.claims.userId);
          if (refused) return [refused];
        }
        let contextValue;
        try {
          contextValue = await contextFor(services, session.token, session.ip);
        } catch (error) {
          subscriptions.release(id);
          throw error;
        }
        const { document, variableValues, operationName } = prepared;
        return { schema, document, variableValues, operationName, contextValue };
      },
      onComplete: (ctx: Context<Record<string, unknown>, Extras>, id) => {
        ctx.extra.subscriptions?.release(id);
      },
      onNext: (ctx: Context<Record<string, unknown>, Extras>, _id, _payload, _args, result) => {
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          socket.close(CLOSE_SLOW_CONSUMER, "Subscriber too slow: send buffer full");
          return undefined;
        }
        // Errors raised while subscribing (NOT_FOUND for a foreign deviceId) travel in a result.
        if (!result.errors) return result;
        const format = formatError(log);
        return { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } as never;
      },
      onError: (ctx: Context<Record<string, unknown>, Extras>, _id, _payload, errors) => {
        if (errors.some((e) => e.originalError instanceof SlowConsumerError)) {
          ctx.extra.socket.close(CLOSE_SLOW_CONSUMER, "Subscriber too slow: event buffer full");
        }
        const format = formatError(log);
        return errors.map((e) => format(e.toJSON(), e)) as never;
      },
    },
    wss,
    KEEP_ALIVE_MS,
  );

  return {
    async close() {
      for (const socket of wss.clients) socket.close(1001, "Server shutting down");
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
