import type { FastifyInstance } from "fastify";
import { AUTH_FAILURES, authenticate, bearerOf, endOnExpiryOrRevoke } from "../src/platform/user-token.js";
import type { Services } from "../src/platform/services.js";
import { Topic } from "../src/platform/event-bus.js";
import { notificationStreamDoc } from "./openapi/app.docs.js";

const KEEP_ALIVE_MS = 15_000;

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The old `GET /notifications/stream` (Bearer): an SSE stream that starts with `initial` (the latest
 * notifications and the unread count) and then sends one `notification` event per new notification
 * of the caller. It ends when the token expires or is revoked, like a WebSocket would.
 */
export function notificationStreamRoutes(app: FastifyInstance, services: Services): void {
  app.get("/notifications/stream", { config: { openapi: notificationStreamDoc } }, async (request, reply) => {
    const auth = await authenticate(services.sessions, bearerOf(request.headers.authorization));
    if (!auth.ok) return reply.status(AUTH_FAILURES[auth.reason].status).send({ detail: AUTH_FAILURES[auth.reason].message });
    const { userId } = auth.claims;
    const page = await services.notifications.page(userId, { first: 20 });
    const unread = await services.notifications.unreadCount(userId);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    const toWire = (n: { id: string; type: string; title: string; message: string; data: unknown; createdAt: Date | string; readAt?: Date | null }) => ({
      id: n.id,
      type: n.type,
      title: n.title,
      message: n.message,
      data: n.data,
      read: Boolean(n.readAt),
      created_at: typeof n.createdAt === "string" ? n.createdAt : n.createdAt.toISOString(),
    });
    res.write(frame("initial", { notifications: page.edges.map((e) => toWire(e.node)), unread_count: unread }));

    const end = () => {
      clearInterval(ping);
      stopWatching();
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    const unsubscribe = services.bus.subscribe(Topic.NotificationAdded, (p) => {
      if (p.userId === userId) res.write(frame("notification", toWire(p.notification)));
    });
    const stopWatching = endOnExpiryOrRevoke(services.bus, services.sessions, auth, end);
    const ping = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
    request.raw.once("close", end);
    return reply;
  });
}
