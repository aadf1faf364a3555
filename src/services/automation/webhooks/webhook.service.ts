import { randomBytes } from "node:crypto";
import type { Pool } from "pg";
import type { DataSource } from "typeorm";
import { Webhook, WebhookEvent } from "../../../entities/webhook.entity.js";
import { UUID_RE } from "../../../platform/ids.js";
import type { DeviceService } from "../../devices/device.service.js";
import { AppError, badInput, notFound } from "../../../platform/errors.js";
import { SecretBox } from "../../../platform/secret-box.js";
import { serverSecret } from "../../../platform/secrets.js";

export const MAX_WEBHOOKS_PER_USER = 50;
const MAX_URL_LENGTH = 2048;
// Printable ASCII without spaces: it has to survive being pasted into a config file or an env variable.
const SECRET_RE = /^[\x21-\x7e]{16,256}$/;
const EVENTS = new Set<string>(Object.values(WebhookEvent));

export interface NewWebhook {
  url: string;
  events: readonly string[];
  deviceId?: string | null;
  active?: boolean | null;
  /** Generated when absent. */
  secret?: string | null;
}

/** Absent or null: unchanged, except deviceId where null removes the device filter. */
export interface WebhookChanges {
  url?: string | null;
  events?: readonly string[] | null;
  deviceId?: string | null;
  active?: boolean | null;
  secret?: string | null;
}

export function checkUrl(raw: string): string {
  const url = raw.trim();
  if (url.length > MAX_URL_LENGTH) throw badInput(`url must be at most ${MAX_URL_LENGTH} characters`);
  if (!/^https?:\/\//i.test(url)) throw badInput("url must start with http:// or https://");
  // WHATWG parsing would read "https:///path" as host "path"; a host must follow the slashes.
  if (!/^https?:\/\/[^/?#]/i.test(url)) throw badInput("url must name a host");
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw badInput("url is not a valid URL");
  }
  if (!host) throw badInput("url must name a host");
  return url;
}

export function checkEvents(events: readonly string[]): WebhookEvent[] {
  const unknown = events.find((e) => !EVENTS.has(e));
  if (unknown !== undefined) throw badInput(`unknown event "${unknown}"; events are ${[...EVENTS].join(", ")}`);
  if (events.length === 0) throw badInput("events must name at least one event");
  return [...new Set(events)] as WebhookEvent[];
}

function checkSecret(secret: string): string {
  if (!SECRET_RE.test(secret)) throw badInput("secret must be 16 to 256 printable ASCII characters without spaces");
  return secret;
}

/** Shows which secret is set without revealing it: "whsec_…1a2b". */
export function previewOf(secret: string): string {
  return `${secret.startsWith("whsec_") ? "whsec_" : ""}…${secret.slice(-4)}`;
}

const webhookNotFound = () => notFound("webhook");

/**
 * Webhooks of a user (CRUD; deliveries come later and read the signing secret through `secretOf`).
 * Secrets are sealed with AES-256-GCM under a key from SECRET_KEY, else from a generated server secret.
 */
export class WebhookService {
  private box: Promise<SecretBox> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: Pool,
    private readonly devices: DeviceService,
    private readonly secretKey: string | undefined,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Webhook);
  }

  /** Loaded on first use (the factory that builds services is synchronous); retried if that failed. */
  private secretBox(): Promise<SecretBox> {
    this.box ??= serverSecret(this.pool, "webhook-key", this.secretKey).then(
      (material) => new SecretBox(material, "webhook-secrets"),
      (error: unknown) => {
        this.box = undefined;
        throw error;
      },
    );
    return this.box;
  }

  private async sealed(secret: string): Promise<Pick<Webhook, "secretSealed" | "secretPreview">> {
    return { secretSealed: (await this.secretBox()).seal(secret), secretPreview: previewOf(secret) };
  }

  list(ownerId: string): Promise<Webhook[]> {
    return this.repo.find({ where: { ownerId }, order: { createdAt: "ASC", id: "ASC" } });
  }

  async requireOwned(ownerId: string, id: string): Promise<Webhook> {
    const webhook = UUID_RE.test(id) ? await this.repo.findOneBy({ id: id.toLowerCase(), ownerId }) : null;
    if (!webhook) throw webhookNotFound();
    return webhook;
  }

  /** The created webhook and its secret, which is shown this once. */
  async create(ownerId: string, input: NewWebhook): Promise<{ webhook: Webhook; secret: string }> {
    const deviceId = input.deviceId == null ? null : (await this.devices.requireOwned(ownerId, input.deviceId)).id;
    const url = checkUrl(input.url);
    const events = checkEvents(input.events);
    const secret = input.secret == null ? `whsec_${randomBytes(32).toString("base64url")}` : checkSecret(input.secret);
    const sealed = await this.sealed(secret);
    const webhook = await this.dataSource.transaction(async (m) => {
      // Serialises concurrent creations of one user, so the limit holds; FK checks elsewhere are not blocked.
      await m.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [ownerId]);
      if ((await m.countBy(Webhook, { ownerId })) >= MAX_WEBHOOKS_PER_USER) {
        throw new AppError("CONFLICT", `at most ${MAX_WEBHOOKS_PER_USER} webhooks per account; delete one first`);
      }
      return m.save(m.create(Webhook, { ownerId, url, events, deviceId, active: input.active ?? true, ...sealed }));
    });
    return { webhook, secret };
  }

  async update(ownerId: string, id: string, changes: WebhookChanges): Promise<Webhook> {
    const webhook = await this.requireOwned(ownerId, id);
    const patch: Partial<Webhook> = {};
    if (changes.deviceId !== undefined) {
      patch.deviceId = changes.deviceId === null ? null : (await this.devices.requireOwned(ownerId, changes.deviceId)).id;
    }
    if (changes.url != null) patch.url = checkUrl(changes.url);
    if (changes.events != null) patch.events = checkEvents(changes.events);
    if (changes.active != null) patch.active = changes.active;
    if (changes.secret != null) Object.assign(patch, await this.sealed(checkSecret(changes.secret)));
    if (Object.keys(patch).length === 0) return webhook;
    // An UPDATE, not save(): save() would insert the row again if it was deleted meanwhile.
    const { affected } = await this.repo.update({ id: webhook.id, ownerId }, patch);
    if (!affected) throw webhookNotFound();
    return this.requireOwned(ownerId, webhook.id);
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    const { affected } = UUID_RE.test(id) ? await this.repo.delete({ id: id.toLowerCase(), ownerId }) : { affected: 0 };
    if (!affected) throw webhookNotFound();
    return true;
  }

  /** The plain signing secret, for the delivery code; undefined when the webhook is gone. */
  async secretOf(webhookId: string): Promise<string | undefined> {
    if (!UUID_RE.test(webhookId)) return undefined;
    const { rows } = await this.pool.query<{ secret_sealed: string }>(`SELECT secret_sealed FROM webhooks WHERE id = $1`, [webhookId]);
    return rows[0] ? (await this.secretBox()).open(rows[0].secret_sealed) : undefined;
  }
}
