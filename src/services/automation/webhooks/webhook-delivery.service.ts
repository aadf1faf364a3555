import type { JobHelpers } from "graphile-worker";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Config } from "../../../platform/config.js";
import type { JsonValue } from "../../../platform/json.js";
import { WebhookDeliveryStatus } from "../../../entities/webhook-delivery.entity.js";
import { WebhookEvent } from "../../../entities/webhook.entity.js";
import { VERSION } from "../../../platform/version.js";
import { UUID_RE } from "../../../platform/ids.js";
import { Topic, type EventBus } from "../../../platform/event-bus.js";
import type { JobQueue } from "../../../platform/jobs.js";
import type { NotificationService } from "../../notifications/notification.service.js";
import { AllowList } from "./ssrf.js";
import { DeliveryLog } from "./webhook-delivery.log.js";
import { fanoutEventOf, WebhookFanout } from "./webhook-fanout.js";
import type { Outbox } from "../../../platform/db/outbox.js";
import { signatureHeaders, WebhookSender, type SendResult } from "./webhook-sender.js";
import type { WebhookService } from "./webhook.service.js";
import { DISABLE_IF_FAILING, FAIL_DISABLED, LOAD_DELIVERY, PRUNE, RECORD_ATTEMPT } from "./webhook-delivery.sql.js";

const DELIVER_TASK = "webhook.deliver";
const PRUNE_TASK = "webhook.prune";
/** graphile-worker's own retries: only for a run that could not record its attempt (database down, shutdown). */
const JOB_MAX_ATTEMPTS = 10;
const MAX_DELAY_MS = 6 * 3_600_000; // 6 h
const CACHE_MAX_ENTRIES = 10_000;

interface DeliveryRow {
  payload: { id: string; event: string; timestamp: string; data: unknown };
  status: string;
  attempts: number;
  webhook_id: string;
  user_id: string;
  url: string;
  active: boolean;
  secret_sealed: string;
}

export interface WebhookDeliveryDeps {
  pool: Pool;
  log: Logger;
  webhooks: WebhookService;
  notifications: NotificationService;
  /** The deliveries' own worker pool (see Config.webhooks.concurrency). */
  queue: JobQueue;
}

/**
 * Turns domain events into webhook deliveries and makes them: one durable job per delivery, signed
 * POSTs through the SSRF guard, retries with backoff, a log per webhook, and the automatic disable.
 * Matching runs off the ingest path (webhook-fanout.ts). docs/webhooks.md describes the contract.
 */
export class WebhookDeliveryService {
  readonly log: DeliveryLog;
  private readonly sender: WebhookSender;
  private readonly fanout: WebhookFanout;
  private readonly secrets = new Map<string, { sealed: string; secret: string }>();
  private started: Promise<void> | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  /** Deliveries being sent now, per webhook owner: one owner's slow receivers cannot hold every slot. */
  private readonly sending = new Map<string, number>();

  constructor(
    private readonly deps: WebhookDeliveryDeps,
    private readonly options: Config["webhooks"],
  ) {
    this.log = new DeliveryLog(deps.pool, deps.webhooks);
    this.fanout = new WebhookFanout(deps.pool, deps.log, { task: DELIVER_TASK, jobMaxAttempts: JOB_MAX_ATTEMPTS, cacheMs: options.cacheMs });
    this.sender = new WebhookSender({
      timeoutMs: options.timeoutMs,
      allow: new AllowList(options.allowedHosts.join(",")),
      userAgent: `ThingsNXT-Webhooks/${VERSION}`,
    });
    deps.queue.register(DELIVER_TASK, (payload, helpers) => this.deliver(payload, helpers));
    deps.queue.register(PRUNE_TASK, () => this.prune());
  }

  /**
   * Each domain event is turned into deliveries only by the process that published it (`remote`
   * false), so with N processes sharing events through Redis it is still enqueued once.
   */
  listen(bus: EventBus): void {
    this.unsubscribe.push(
      bus.subscribe(Topic.DeviceStatusChanged, ({ deviceId, ownerId, status, timestamp }, { remote }) => {
        const event = status === "online" ? WebhookEvent.device_online : WebhookEvent.device_offline;
        if (!remote) void this.fanout.push({ userId: ownerId, event, data: { deviceId, status }, deviceId, timestamp });
      }),
      bus.subscribe(Topic.ScheduleRan, ({ userId, ok, data }, { remote }) => {
        if (!remote && ok) void this.scheduleExecuted(userId, data);
      }),
    );
  }

  /**
   * Reports' events come through the outbox: their deliveries are stored even when the process dies
   * right after the report's commit (another process, or this one after a restart, hands them over).
   */
  consume(outbox: Outbox): void {
    outbox.consume((entries) => Promise.all(entries.map((entry) => this.fanout.pushEntry(entry.id, entry.events.map(fanoutEventOf)))).then(() => undefined));
  }

  /** The event names the widget; the device filter needs the widget's device. */
  private async scheduleExecuted(userId: string, data: Record<string, JsonValue>): Promise<void> {
    let deviceId = typeof data.deviceId === "string" ? data.deviceId : null;
    if (deviceId === null && typeof data.widgetId === "string" && UUID_RE.test(data.widgetId)) {
      try {
        const { rows } = await this.deps.pool.query<{ device_id: string | null }>(`SELECT device_id FROM widgets WHERE id = $1`, [data.widgetId]);
        deviceId = rows[0]?.device_id ?? null;
      } catch (error) {
        this.deps.log.warn({ err: error, widgetId: data.widgetId }, "could not find the device of a schedule's widget");
      }
    }
    const timestamp = new Date().toISOString();
    await this.fanout.push({ userId, event: WebhookEvent.schedule_executed, data: deviceId ? { ...data, deviceId } : data, deviceId, timestamp });
  }

  /**
   * Deliveries of `event` to the user's active webhooks subscribed to it (or to `all`) whose device
   * filter matches, for events raised outside the bus. Resolves once the
   * deliveries are stored and queued, not when they are made; never rejects (failures are logged).
   */
  enqueueFor(userId: string, event: string, data: Record<string, JsonValue>, deviceId?: string | null): Promise<void> {
    return this.fanout.push({ userId, event, data, deviceId: deviceId ?? null, timestamp: new Date().toISOString() });
  }

  /** One delivery to one webhook of the user's, whatever it subscribed to (a rule's webhook action). */
  enqueueTo(userId: string, webhookId: string, event: string, data: Record<string, JsonValue>, deviceId?: string | null): Promise<void> {
    return this.fanout.push({ userId, event, data, deviceId: deviceId ?? null, timestamp: new Date().toISOString(), webhookId });
  }

  /** Half the worker pool (at least one) per owner and process. */
  private get perOwner(): number {
    return Math.max(1, Math.floor(this.options.concurrency / 2));
  }

  /** Starts the deliveries' worker pool; called once at start, after every task is registered. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.deps.queue.start();
      await this.deps.queue.add(PRUNE_TASK, {}, { jobKey: PRUNE_TASK, preserveRunAt: true, runAt: new Date(Date.now() + 3_600_000) });
    })();
    return this.started;
  }

  /** Writes what is buffered, lets running deliveries finish (graphile-worker aborts them after 5 s), stops. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.fanout.flush();
    await this.started?.catch(() => undefined);
    await this.deps.queue.stop();
    this.sender.close();
  }

  // ---- delivering ------------------------------------------------------------------------------

  /** The job: one attempt of one delivery. `attempt` makes a repeated run of the same job a no-op. */
  private async deliver(payload: unknown, helpers: JobHelpers): Promise<void> {
    const { deliveryId, attempt } = (payload ?? {}) as { deliveryId?: unknown; attempt?: unknown };
    if (typeof deliveryId !== "string" || !UUID_RE.test(deliveryId) || typeof attempt !== "number") {
      this.deps.log.warn({ payload }, "ignoring a malformed webhook delivery job");
      return;
    }
    const { rows } = await this.deps.pool.query<DeliveryRow>(LOAD_DELIVERY, [deliveryId]);
    const row = rows[0];
    if (!row || row.status !== WebhookDeliveryStatus.PENDING || row.attempts !== attempt) return; // gone, or done already
    if (!row.active) {
      await this.deps.pool.query(FAIL_DISABLED, [deliveryId, attempt, "not sent: the webhook is disabled"]);
      return;
    }
    const secret = await this.secretOf(row);
    if (secret === undefined) return; // deleted meanwhile (its deliveries went with it)
    const { id, event, timestamp, data } = row.payload;
    const body = JSON.stringify({ id, event, timestamp, data }); // stable: every attempt sends the same bytes
    const at = new Date();
    const headers = {
      "content-type": "application/json",
      "x-webhook-id": id,
      "x-webhook-event": event,
      "x-webhook-attempt": String(attempt + 1),
      ...signatureHeaders(secret, body, Math.floor(at.getTime() / 1000)),
    };
    const busy = this.sending.get(row.user_id) ?? 0;
    if (busy >= this.perOwner) {
      // The slot goes to other owners; this attempt runs again shortly (same attempt number: not counted).
      await this.deps.queue.add(
        DELIVER_TASK,
        { deliveryId, attempt },
        { runAt: new Date(Date.now() + 250 + Math.random() * 500), maxAttempts: JOB_MAX_ATTEMPTS },
      );
      return;
    }
    this.sending.set(row.user_id, busy + 1);
    let result: SendResult;
    try {
      // Rejects only when the worker shuts down: the job is then retried, and this attempt not counted.
      result = await this.sender.send(row.url, body, headers, helpers.abortSignal);
    } finally {
      const left = (this.sending.get(row.user_id) ?? 1) - 1;
      if (left > 0) this.sending.set(row.user_id, left);
      else this.sending.delete(row.user_id);
    }
    this.deps.log.debug({ deliveryId, attempt: attempt + 1, ...result }, "webhook delivery attempt");
    const failedForGood = await this.record(deliveryId, attempt, at, result);
    if (failedForGood) await this.disableIfFailing(row, result.error);
  }

  /**
   * The plain signing secret, opened once per sealed value: a changed secret is a new sealed value,
   * so a cached one never signs after the webhook's secret changed.
   */
  private async secretOf(row: DeliveryRow): Promise<string | undefined> {
    const cached = this.secrets.get(row.webhook_id);
    if (cached?.sealed === row.secret_sealed) return cached.secret;
    const secret = await this.deps.webhooks.secretOf(row.webhook_id);
    if (secret === undefined) return undefined;
    if (this.secrets.size > CACHE_MAX_ENTRIES) this.secrets.clear();
    // Keyed by the sealed value read with the delivery: if the secret changed in between, the next
    // delivery sees another sealed value and opens it again.
    this.secrets.set(row.webhook_id, { sealed: row.secret_sealed, secret });
    return secret;
  }

  /** Stores the attempt and, when another is due, queues it in the same statement. True when the delivery failed for good. */
  private async record(deliveryId: string, attempt: number, at: Date, result: SendResult): Promise<boolean> {
    const made = attempt + 1;
    const final = result.outcome !== "failed" || made >= this.options.maxAttempts;
    const status = result.outcome === "delivered" ? WebhookDeliveryStatus.SUCCEEDED : final ? WebhookDeliveryStatus.FAILED : WebhookDeliveryStatus.PENDING;
    const next = final ? null : new Date(Date.now() + this.delayAfter(made));
    const entry = [{ at: at.toISOString(), statusCode: result.statusCode, durationMs: result.durationMs, error: result.error }];
    const { rows } = await this.deps.pool.query(RECORD_ATTEMPT, [
      deliveryId,
      attempt,
      status,
      JSON.stringify(entry),
      result.statusCode,
      result.error,
      result.durationMs,
      next,
      DELIVER_TASK,
      JOB_MAX_ATTEMPTS,
    ]);
    return rows.length > 0 && status === WebhookDeliveryStatus.FAILED;
  }

  /** 30 s, 1.5 min, 4.5 min, 13.5 min, 40.5 min with the defaults (×3 each time), plus up to 10 % jitter. */
  private delayAfter(attempts: number): number {
    const delay = Math.min(this.options.retryBaseMs * 3 ** (attempts - 1), MAX_DELAY_MS);
    return Math.round(delay * (1 + Math.random() * 0.1));
  }

  /**
   * Disables the webhook when its last `disableAfter` finished deliveries all failed for good, counting
   * only deliveries that ended since the webhook was last changed (so enabling it again, or fixing its
   * URL, starts a new count). The conditional UPDATE makes exactly one caller see the change and notify.
   */
  private async disableIfFailing(row: DeliveryRow, lastError: string | null): Promise<void> {
    const n = this.options.disableAfter;
    const { rows } = await this.deps.pool.query<{ user_id: string; url: string }>(DISABLE_IF_FAILING, [row.webhook_id, n]);
    const disabled = rows[0];
    if (!disabled) return;
    this.fanout.forget(disabled.user_id);
    this.deps.log.info({ webhookId: row.webhook_id }, "webhook disabled after repeated failures");
    await this.deps.notifications
      .notify(disabled.user_id, {
        type: "webhook_disabled",
        title: "Webhook disabled",
        message: `${disabled.url} failed ${n} deliveries in a row and was disabled${lastError ? ` (last error: ${lastError})` : ""}. Fix the receiver, then set the webhook active again.`,
        data: { webhookId: row.webhook_id, url: disabled.url, failedDeliveries: n, lastError },
      })
      .catch((error: unknown) => this.deps.log.warn({ err: error, webhookId: row.webhook_id }, "could not notify about a disabled webhook"));
  }

  /** Retention: finished or not, deliveries older than the retention period leave the log, in batches. */
  private async prune(): Promise<void> {
    const batch = 5000;
    let deleted = 0;
    try {
      const { rowCount } = await this.deps.pool.query(PRUNE, [this.options.retentionDays, batch]);
      deleted = rowCount ?? 0;
    } finally {
      const runAt = new Date(Date.now() + (deleted === batch ? 1000 : 3_600_000));
      await this.deps.queue.add(PRUNE_TASK, {}, { jobKey: PRUNE_TASK, runAt });
    }
  }
}
