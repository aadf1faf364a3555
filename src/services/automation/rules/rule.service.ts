import type { DataSource } from "typeorm";
import type { JsonValue } from "../../../platform/json.js";
import { Rule, RuleActionType, RuleOp, type RuleActionParams } from "../../../entities/rule.entity.js";
import { UUID_RE } from "../../../platform/ids.js";
import type { DeviceService } from "../../devices/device.service.js";
import { AppError, badInput, notFound } from "../../../platform/errors.js";
import { validateReportData, type ReportLimits } from "../../telemetry/report-validation.js";
import { checkOperand } from "./rule-condition.js";
import type { WebhookService } from "../webhooks/webhook.service.js";

export const MAX_RULES_PER_USER = 200;
const MAX_FOR_SECONDS = 86_400; // 24 h
const MAX_MESSAGE = 500;

export interface RuleActionData {
  type: RuleActionType;
  deviceId?: string | null;
  key?: string | null;
  value?: JsonValue | null;
  message?: string | null;
  webhookId?: string | null;
}

export interface NewRule {
  name: string;
  deviceId: string;
  key: string;
  op: RuleOp;
  value?: JsonValue | null;
  forSeconds?: number | null;
  enabled?: boolean | null;
  action: RuleActionData;
}

/** Absent (undefined): unchanged. `value: null` sets null (needed to switch to CHANGED); an action is replaced whole. */
export type RuleChanges = { [K in keyof NewRule]?: NewRule[K] | null };

/** What the engine must be told when rules change (it caches them per device). */
export interface RuleCache {
  rulesChanged(deviceIds: readonly string[]): void;
  /** A pending "for S seconds" job of the rule must not fire any more. */
  cancelHold(ruleId: string): Promise<void>;
}

type ActionColumns = Pick<Rule, "actionType" | "actionParams" | "targetDeviceId" | "webhookId">;

const ruleNotFound = () => notFound("rule");
const ACTION_FIELDS = ["deviceId", "key", "value", "message", "webhookId"] as const;
const USED_BY: Record<RuleActionType, ReadonlySet<string>> = {
  SET_STATE: new Set(["deviceId", "key", "value"]),
  NOTIFY: new Set(["message"]),
  WEBHOOK: new Set(["webhookId"]),
};

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw badInput("name must be 1 to 100 characters");
  return trimmed;
}

function checkForSeconds(op: RuleOp, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FOR_SECONDS) throw badInput(`forSeconds must be 0 to ${MAX_FOR_SECONDS}`);
  if (op === RuleOp.CHANGED && value !== 0) throw badInput("forSeconds must be 0 for CHANGED: a change is an instant, not a state");
  return value;
}

/**
 * Rules of a user: CRUD with ownership. A rule only reads and drives its owner's devices and
 * webhooks; a foreign or unknown id is NOT_FOUND. Evaluation is the engine's (rule-engine.ts).
 */
export class RuleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly devices: DeviceService,
    private readonly webhooks: WebhookService,
    private readonly limits: ReportLimits,
    private readonly cache: RuleCache,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Rule);
  }

  list(ownerId: string): Promise<Rule[]> {
    return this.repo.find({ where: { ownerId }, order: { createdAt: "ASC", id: "ASC" } });
  }

  /** Null when missing or another user's. */
  async get(ownerId: string, id: string): Promise<Rule | null> {
    return UUID_RE.test(id) ? this.repo.findOneBy({ id: id.toLowerCase(), ownerId }) : null;
  }

  async create(ownerId: string, input: NewRule): Promise<Rule> {
    const deviceId = (await this.devices.requireOwned(ownerId, input.deviceId)).id;
    const name = checkName(input.name);
    const key = this.checkKey(input.key);
    const value = checkOperand(input.op, input.value, this.limits.stringBytes);
    const forSeconds = checkForSeconds(input.op, input.forSeconds ?? 0);
    const action = await this.checkAction(ownerId, input.action);
    const rule = await this.dataSource.transaction(async (m) => {
      // Serialises one user's concurrent creations so the limit holds.
      await m.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [ownerId]);
      if ((await m.countBy(Rule, { ownerId })) >= MAX_RULES_PER_USER) {
        throw new AppError("CONFLICT", `at most ${MAX_RULES_PER_USER} rules per account; delete one first`);
      }
      const fields = { ownerId, name, enabled: input.enabled ?? true, deviceId, key, op: input.op, value, forSeconds, ...action };
      return m.save(m.create(Rule, fields));
    });
    this.cache.rulesChanged([deviceId]);
    return rule;
  }

  async update(ownerId: string, id: string, changes: RuleChanges): Promise<Rule> {
    const rule = await this.get(ownerId, id);
    if (!rule) throw ruleNotFound();
    const patch: Partial<Rule> = {};
    if (changes.name != null) patch.name = checkName(changes.name);
    if (changes.deviceId != null) patch.deviceId = (await this.devices.requireOwned(ownerId, changes.deviceId)).id;
    if (changes.key != null) patch.key = this.checkKey(changes.key);
    if (changes.op != null) patch.op = changes.op;
    const op = patch.op ?? rule.op;
    // A change of operator re-checks the stored value against it (GT with a string value is refused);
    // switching to CHANGED drops the value and the duration it cannot use.
    const toChanged = op === RuleOp.CHANGED && rule.op !== RuleOp.CHANGED;
    const value = changes.value !== undefined ? changes.value : toChanged ? null : rule.value;
    if (changes.value !== undefined || patch.op) patch.value = checkOperand(op, value, this.limits.stringBytes);
    const forSeconds = changes.forSeconds ?? (toChanged ? 0 : rule.forSeconds);
    if (changes.forSeconds != null || patch.op) patch.forSeconds = checkForSeconds(op, forSeconds);
    if (changes.action != null) Object.assign(patch, await this.checkAction(ownerId, changes.action));
    if (changes.enabled != null) patch.enabled = changes.enabled;

    const condition = (["deviceId", "key", "op", "value", "forSeconds"] as const).some(
      (f) => f in patch && JSON.stringify(patch[f]) !== JSON.stringify(rule[f]),
    );
    const enabling = patch.enabled === true && !rule.enabled;
    const disabling = patch.enabled === false && rule.enabled;
    // A new condition, or a rule switched on or off, starts unarmed: the next report that meets it fires it.
    if (condition || enabling || disabling) Object.assign(patch, { active: false, activeSince: null });
    if (enabling) Object.assign(patch, { suspendedAt: null, suspendedReason: null, windowStart: null, windowCount: 0 });
    if (Object.keys(patch).length === 0) return rule;
    // An UPDATE, not save(): save() would insert the row again if it was deleted meanwhile.
    const { affected } = await this.repo.update({ id: rule.id, ownerId }, patch);
    if (!affected) throw ruleNotFound();
    if (condition || disabling) await this.cache.cancelHold(rule.id);
    this.cache.rulesChanged([...new Set([rule.deviceId, patch.deviceId ?? rule.deviceId])]);
    return (await this.get(ownerId, rule.id)) ?? Promise.reject(ruleNotFound());
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    if (!UUID_RE.test(id)) throw ruleNotFound();
    const [rows] = (await this.repo.query(`DELETE FROM rules WHERE id = $1 AND owner_id = $2 RETURNING device_id`, [id.toLowerCase(), ownerId])) as [
      Array<{ device_id: string }>,
      number,
    ];
    const deviceId = rows[0]?.device_id;
    if (!deviceId) throw ruleNotFound();
    await this.cache.cancelHold(id.toLowerCase());
    this.cache.rulesChanged([deviceId]);
    return true;
  }

  private checkKey(key: string): string {
    validateReportData({ [key]: null }, this.limits, "key");
    return key;
  }

  private async checkAction(ownerId: string, action: RuleActionData): Promise<ActionColumns> {
    const used = USED_BY[action.type];
    const stray = ACTION_FIELDS.find((f) => action[f] != null && !used.has(f));
    if (stray) throw badInput(`action.${stray} is not used by ${action.type}`);
    const columns: ActionColumns = { actionType: action.type, actionParams: {}, targetDeviceId: null, webhookId: null };
    switch (action.type) {
      case RuleActionType.SET_STATE: {
        if (action.deviceId == null || action.key == null || action.value == null)
          throw badInput("SET_STATE needs action.deviceId, action.key and action.value");
        columns.targetDeviceId = (await this.devices.requireOwned(ownerId, action.deviceId)).id;
        // The same checks as a command from the app (key characters, value size).
        const values = validateReportData({ [action.key]: action.value }, this.limits, "action");
        columns.actionParams = { key: action.key, value: values[action.key]! } satisfies RuleActionParams;
        return columns;
      }
      case RuleActionType.NOTIFY: {
        const message = action.message?.trim();
        if (message && message.length > MAX_MESSAGE) throw badInput(`action.message must be at most ${MAX_MESSAGE} characters`);
        if (message) columns.actionParams = { message };
        return columns;
      }
      case RuleActionType.WEBHOOK:
        if (action.webhookId == null) throw badInput("WEBHOOK needs action.webhookId");
        columns.webhookId = (await this.webhooks.requireOwned(ownerId, action.webhookId)).id;
        return columns;
    }
  }
}
