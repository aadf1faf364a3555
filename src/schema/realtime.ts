import type { FastifyInstance } from "fastify";
import { CloseCode, type Context } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import { parse, specifiedRules, validate, type GraphQLError, type GraphQLSchema } from "graphql";
import { WebSocketServer, type WebSocket } from "ws";
import type { Services } from "../app/services.js";
import { Topic } from "../platform/event-bus.js";
import { SlowConsumerError } from "../platform/live.js";
import type { AccessClaims } from "../services/accounts/session.service.js";
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

function tokenFrom(params: Record<string, unknown> | undefined): string | undefined {
  const raw = params?.authorization ?? params?.Authorization ?? params?.token;
  if (typeof raw !== "string" || raw.trim() === "") return undefined;
  return raw.replace(/^Bearer\s+/i, "").trim();
}

/**
 * graphql-ws at ws://…/graphql on the same HTTP server. Sockets authenticate at connection_init;
 * a socket is closed (4403) when its access token expires or its user logs out, so the client
 * reconnects with a fresh token.
 */
export function installSubscriptions(app: FastifyInstance, services: Services, schema: GraphQLSchema): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const byUser = new Map<string, Set<{ socket: WebSocket; session: Session; timer: NodeJS.Timeout }>>();
  const log = services.log;

  app.server.on("upgrade", (request, socket, head) => {
    if (new URL(request.url ?? "/", "http://x").pathname !== "/graphql") {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  });

  const track = (socket: WebSocket, session: Session) => {
    const ttl = Math.max(0, session.claims.exp * 1000 - Date.now());
    const entry = { socket, session, timer: setTimeout(() => socket.close(CloseCode.Forbidden, "Access token expired"), ttl) };
    entry.timer.unref();
    let set = byUser.get(session.claims.userId);
    if (!set) byUser.set(session.claims.userId, (set = new Set()));
    set.add(entry);
    socket.once("close", () => {
      clearTimeout(entry.timer);
      set!.delete(entry);
      if (set!.size === 0) byUser.delete(session.claims.userId);
    });
  };

  // Logout, password reset, account deletion: re-check every socket of that user.
  const unsubscribe = services.bus.subscribe(Topic.SessionsChanged, ({ userId }) => {
    for (const entry of byUser.get(userId) ?? []) {
      void services.sessions.verify(entry.session.token).then((result) => {
        if (!result.ok) entry.socket.close(CloseCode.Forbidden, result.reason === "revoked" ? "Access token revoked" : "Access token no longer valid");
      });
    }
  });

  const server = useServer<Record<string, unknown>, { session?: Session }>(
    {
      schema,
      onConnect: async (ctx: Context<Record<string, unknown>, Extras>) => {
        const token = tokenFrom(ctx.connectionParams);
        const socket = ctx.extra.socket;
        if (!token) {
          socket.close(CloseCode.Unauthorized, "Missing access token: send connectionParams.authorization");
          return false;
        }
        const result = await services.sessions.verify(token);
        if (!result.ok) {
          socket.close(CloseCode.Forbidden, result.reason === "expired" ? "Access token expired" : result.reason === "revoked" ? "Access token revoked" : "Invalid access token");
          return false;
        }
        const session = { token, claims: result.claims, ip: ctx.extra.request.socket.remoteAddress ?? "" };
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
      unsubscribe();
      for (const socket of wss.clients) socket.close(1001, "Server shutting down");
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
