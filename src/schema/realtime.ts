import type { FastifyInstance } from "fastify";
import type { Context } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import { parse, specifiedRules, validate, type GraphQLError, type GraphQLSchema } from "graphql";
import { WebSocketServer, type WebSocket } from "ws";
import type { Services } from "../platform/services.js";
import { SlowConsumerError } from "../platform/live.js";
import { AUTH_FAILURES, authenticate, endOnExpiryOrRevoke, tokenOfParams, type AccessClaims } from "../platform/user-token.js";
import { contextFor } from "./context.js";
import { formatError } from "./errors.js";
import { aliasLimit, checkCost, depthLimit } from "./limits.js";

/** Close codes beyond graphql-ws's own (4401 unauthorized, 4403 forbidden). */
export const CLOSE_SLOW_CONSUMER = 4413;
const MAX_BUFFERED_BYTES = 1024 * 1024; // a subscriber this far behind is dropped
const KEEP_ALIVE_MS = 12_000;

interface Session {
  token: string;
  claims: AccessClaims;
  ip: string;
}
type Extras = Extra & { session?: Session };

/**
 * graphql-ws at ws://…/graphql on the same HTTP server. Sockets authenticate at connection_init;
 * a socket is closed (4401 without a token, 4403 otherwise) when its access token expires or is
 * revoked, so the client reconnects with a fresh token.
 */
export function installSubscriptions(app: FastifyInstance, services: Services, schema: GraphQLSchema): { close(): Promise<void> } {
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

  const server = useServer<Record<string, unknown>, { session?: Session }>(
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
        (ctx.extra as { session?: Session }).session = session;
        track(socket, session);
        return true;
      },
      // The same checks as over HTTP: parse, validate with the depth and alias limits, then cost.
      onSubscribe: async (ctx: Context<Record<string, unknown>, Extras>, _id, payload) => {
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document, [...specifiedRules, depthLimit, aliasLimit]);
        if (errors.length > 0) return errors;
        const variableValues = payload.variables ?? {};
        try {
          checkCost(schema, document, variableValues, payload.operationName ?? undefined);
        } catch (error) {
          return [error as GraphQLError];
        }
        const session = ctx.extra.session!;
        return {
          schema,
          document,
          variableValues,
          operationName: payload.operationName ?? null,
          contextValue: await contextFor(services, session.token, session.ip),
        };
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
