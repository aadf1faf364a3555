import type { Pool } from "pg";
import { WebhookDelivery, WebhookDeliveryAttempt, type WebhookDeliveryStatus } from "../../../entities/webhook-delivery.entity.js";
import { badInput } from "../../../platform/errors.js";
import type { WebhookService } from "./webhook.service.js";

const DEFAULT_FIRST = 20;
const MAX_FIRST = 100;

interface Row {
  id: string;
  webhook_id: string;
  event: string;
  payload: Record<string, unknown>;
  status: WebhookDeliveryStatus;
  attempts: number;
  attempt_log: Array<{ at: string; statusCode: number | null; durationMs: number; error: string | null }>;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  next_attempt_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toDelivery(row: Row): WebhookDelivery {
  return Object.assign(new WebhookDelivery(), {
    id: row.id,
    webhookId: row.webhook_id,
    event: row.event,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    attemptLog: row.attempt_log.map((a) => Object.assign(new WebhookDeliveryAttempt(), { ...a, at: new Date(a.at) })),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastDurationMs: row.last_duration_ms,
    nextAttemptAt: row.next_attempt_at,
    finishedAt: row.finished_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function checkFirst(first: number | null | undefined): number {
  const n = first ?? DEFAULT_FIRST;
  if (!Number.isInteger(n) || n < 1 || n > MAX_FIRST) throw badInput(`first must be between 1 and ${MAX_FIRST}`);
  return n;
}

/** The delivery log as the app reads it: newest first, per webhook. */
export class DeliveryLog {
  constructor(
    private readonly pool: Pool,
    private readonly webhooks: WebhookService,
  ) {}

  /** The caller's webhook's deliveries; another user's or an unknown webhook is NOT_FOUND. */
  async list(userId: string, webhookId: string, first?: number | null): Promise<WebhookDelivery[]> {
    const n = checkFirst(first);
    const webhook = await this.webhooks.requireOwned(userId, webhookId);
    return (await this.latest(userId, [webhook.id], n)).get(webhook.id) ?? [];
  }

  /**
   * The newest `first` deliveries of each of the user's webhooks, in one query (each webhook reads
   * only its newest rows through the index); another user's webhook gets an empty list.
   */
  async latest(userId: string, webhookIds: readonly string[], first: number): Promise<Map<string, WebhookDelivery[]>> {
    const { rows } = await this.pool.query<Row>(
      `SELECT d.* FROM unnest($1::uuid[]) AS w(id)
         JOIN webhooks owned ON owned.id = w.id AND owned.user_id = $3
         CROSS JOIN LATERAL (
           SELECT * FROM webhook_deliveries WHERE webhook_id = w.id ORDER BY created_at DESC, id DESC LIMIT $2
         ) d
        ORDER BY d.webhook_id, d.created_at DESC, d.id DESC`,
      [webhookIds, first, userId],
    );
    const byWebhook = new Map<string, WebhookDelivery[]>(webhookIds.map((id) => [id, []]));
    for (const row of rows) byWebhook.get(row.webhook_id)?.push(toDelivery(row));
    return byWebhook;
  }
}
