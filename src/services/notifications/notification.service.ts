import type { Pool } from "pg";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { JsonValue } from "../../platform/json.js";
import { Notification } from "../../entities/notification.entity.js";
import { UUID_RE } from "../../platform/ids.js";
import { badInput, notFound } from "../../platform/errors.js";

export interface NewNotification {
  type: string;
  title: string;
  message: string;
  data?: Record<string, JsonValue>;
}

export interface NotificationPageQuery {
  unreadOnly?: boolean | null;
  first?: number | null;
  /** endCursor of the previous page. */
  after?: string | null;
}

export interface NotificationPage {
  edges: Array<{ cursor: string; node: Notification }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

// created_at with all six fractional digits: a cursor rounded to JS milliseconds would skip or repeat
// rows whose times differ only in microseconds.
const COLUMNS = `id, user_id, type, title, message, data, read_at, created_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position`;

interface Row {
  id: string;
  user_id: string;
  type: string;
  title: string;
  message: string;
  data: Record<string, JsonValue>;
  read_at: Date | null;
  created_at: Date;
  position: string;
}

const CURSOR_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|(.+)$/;

/** Opaque to clients: (created_at, id) of the last row of a page, the keyset the next page starts after. */
export function encodeCursor(position: string, id: string): string {
  return Buffer.from(`${position}|${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { position: string; id: string } {
  const match = CURSOR_RE.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  const ms = match ? new Date(`${match[1]!.slice(0, 23)}Z`) : undefined;
  // The round trip refuses impossible dates (2026-02-30) that PostgreSQL would reject with an internal error.
  if (!match || !UUID_RE.test(match[2]!) || !ms || Number.isNaN(ms.getTime()) || ms.toISOString().slice(0, 23) !== match[1]!.slice(0, 23)) {
    throw badInput("after is not a cursor of this list; pass a pageInfo.endCursor as it was received");
  }
  return { position: match[1]!, id: match[2]! };
}

function toNotification(row: Row): Notification {
  return Object.assign(new Notification(), {
    id: row.id,
    ownerId: row.user_id,
    type: row.type,
    title: row.title,
    message: row.message,
    data: row.data,
    readAt: row.read_at,
    createdAt: row.created_at,
  });
}

const notificationNotFound = () => notFound("notification");

/** A user's notifications: stored by `notify` (called by other services), read and cleared by the app. */
export class NotificationService {
  constructor(
    private readonly pool: Pool,
    private readonly bus: EventBus,
  ) {}

  /**
   * Stores a notification unless the user turned notifications off (then, or when the user is gone,
   * nothing is stored and null is returned). The push and email flags are for the delivery code.
   */
  async notify(userId: string, input: NewNotification): Promise<Notification | null> {
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO notifications (user_id, type, title, message, data)
       SELECT id, $2, $3, $4, $5 FROM users WHERE id = $1 AND notify_enabled
       RETURNING ${COLUMNS}`,
      [userId, input.type, input.title, input.message, JSON.stringify(input.data ?? {})],
    );
    if (!rows[0]) return null;
    const stored = toNotification(rows[0]);
    this.bus.publish(Topic.NotificationAdded, {
      userId,
      notification: {
        id: stored.id,
        type: stored.type,
        title: stored.title,
        message: stored.message,
        data: stored.data,
        createdAt: stored.createdAt.toISOString(),
      },
    });
    return stored;
  }

  /** Newest first. Keyset pagination: stable while notifications arrive, even with equal times. */
  async page(userId: string, q: NotificationPageQuery): Promise<NotificationPage> {
    const first = q.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`);
    const params: unknown[] = [userId];
    const where = ["user_id = $1"];
    if (q.unreadOnly) where.push("read_at IS NULL");
    if (q.after != null) {
      const { position, id } = decodeCursor(q.after);
      params.push(position, id);
      where.push(`(created_at, id) < ($2::timestamptz, $3::uuid)`);
    }
    params.push(first + 1); // one more than asked tells whether there is a next page
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM notifications WHERE ${where.join(" AND ")}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const edges = rows.slice(0, first).map((row) => ({ cursor: encodeCursor(row.position, row.id), node: toNotification(row) }));
    return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  async unreadCount(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL`, [userId]);
    return rows[0]!.n;
  }

  /** Idempotent: a notification read before keeps its first readAt. */
  async markRead(userId: string, id: string): Promise<Notification> {
    if (!UUID_RE.test(id)) throw notificationNotFound();
    const { rows } = await this.pool.query<Row>(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, userId],
    );
    if (!rows[0]) throw notificationNotFound();
    return toNotification(rows[0]);
  }

  /** How many notifications were unread and are now read. */
  async markAllRead(userId: string): Promise<number> {
    const { rowCount } = await this.pool.query(`UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`, [userId]);
    return rowCount ?? 0;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    if (!UUID_RE.test(id)) throw notificationNotFound();
    const { rowCount } = await this.pool.query(`DELETE FROM notifications WHERE id = $1 AND user_id = $2`, [id, userId]);
    if (!rowCount) throw notificationNotFound();
    return true;
  }
}
