import type { FastifyInstance } from "fastify";
import { bearerOf } from "../src/schema/context.js";
import type { Services } from "../src/app/services.js";
import { Topic } from "../src/platform/event-bus.js";

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
  app.get("/notifications/stream", async (request, reply) => {
    const token = bearerOf(request.headers.authorization);
    const verified = token ? await services.sessions.verify(token) : undefined;
    if (!verified?.ok) return reply.status(401).send({ detail: "Not authenticated" });
    const { userId, exp } = verified.claims;
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
      clearTimeout(expiry);
      unsubscribe();
      unsubscribeSessions();
      res.end();
    };
    const unsubscribe = services.bus.subscribe(Topic.NotificationAdded, (p) => {
      if (p.userId === userId) res.write(frame("notification", toWire(p.notification)));
    });
    const unsubscribeSessions = services.bus.subscribe(Topic.SessionsChanged, (p) => {
      if (p.userId === userId) void services.sessions.verify(token!).then((r) => !r.ok && end());
    });
    const ping = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
    const expiry = setTimeout(end, Math.max(0, exp * 1000 - Date.now()));
    request.raw.once("close", end);
    return reply;
  });
}
