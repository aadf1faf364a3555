import type { Pool } from "pg";
import type { JsonValue } from "../../../platform/json.js";
import type { RuleActionParams, RuleActionType, RuleOp, RuleOperand } from "../../../entities/rule.entity.js";
import { Topic, type EventBus } from "../../../platform/event-bus.js";
import type { JobQueue } from "../../../platform/jobs.js";
import { announceSuspension, runAction, type ActionDeps, type FiringRule } from "./rule-actions.js";
import type { Causation } from "./rule-causation.js";

export const HOLD_TASK = "rule.hold";
export const holdJobKey = (ruleId: string) => `rule:${ruleId}`;

export interface LoopLimits {
  /** Firings of one rule within a minute before loop protection suspends it. */
  maxFiringsPerMinute: number;
  /** Rules fired one by another (through the commands they give) before the chain is cut. */
  maxDepth: number;
}

/** A rule in memory: its definition and what the engine tracks between reports. */
export interface LiveRule extends FiringRule {
  /** The condition held at the last report (level ops); mirrors the `active` column. */
  active: boolean;
  /** CHANGED: the key's value at the previous report; undefined when there was none. */
  prev: JsonValue | undefined;
}

/** The rules of one device that read one key. */
export interface KeyRules {
  readonly rules: LiveRule[];
  /** The value this process last evaluated them with (`seen`): the same value again changes nothing. */
  seen: boolean;
  last: JsonValue;
}

interface RuleRow {
  id: string;
  owner_id: string;
  name: string;
  device_id: string;
  device_name: string;
  key: string;
  op: RuleOp;
  value: RuleOperand;
  for_seconds: number;
  action_type: RuleActionType;
  action_params: RuleActionParams;
  target_device_id: string | null;
  webhook_id: string | null;
  active: boolean;
  /** CHANGED: [value of the previous report], null when the key was never reported before. */
  prev?: [JsonValue] | null;
}

// One firing in the one-minute window of loop protection (columns see the row as it was before).
const FIRE = `last_fired_at = now(),
  window_count = CASE WHEN window_start > now() - interval '1 minute' THEN window_count + 1 ELSE 1 END,
  window_start = CASE WHEN window_start > now() - interval '1 minute' THEN window_start ELSE now() END`;
const SINCE = `to_timestamp($2::double precision / 1000)`;
/** How a firing is recorded; each UPDATE matches only if the rule may still fire that way. */
const FIRING = {
  changed: `UPDATE rules SET ${FIRE} WHERE id = $1 AND enabled RETURNING window_count`,
  entering: `UPDATE rules SET active = true, active_since = ${SINCE}, ${FIRE} WHERE id = $1 AND enabled AND NOT active RETURNING window_count`,
  held: `UPDATE rules SET ${FIRE} WHERE id = $1 AND enabled AND active AND active_since = ${SINCE} RETURNING window_count`,
};
const ARM = `
  WITH armed AS (UPDATE rules SET active = true, active_since = ${SINCE} WHERE id = $1 AND enabled AND NOT active RETURNING id)
  SELECT graphile_worker.add_job($5, json_build_object('ruleId', $1::text, 'since', $2::double precision, 'depth', $3::int),
           run_at := to_timestamp(($2::double precision + $4::int * 1000) / 1000), job_key := $6, max_attempts := 5)
    FROM armed`;
const COLUMNS = `r.id, r.owner_id, r.name, r.device_id, d.name AS device_name, r.key, r.op, r.value, r.for_seconds,
  r.action_type, r.action_params, r.target_device_id, r.webhook_id, r.active`;

// The previous value of a CHANGED rule's key comes from history: the report that triggered the load
// is already stored, so "before its time" is the one before it.
const LOAD = `
  SELECT ${COLUMNS},
         CASE WHEN r.op = 'CHANGED' THEN (
           SELECT jsonb_build_array(coalesce(t.val, to_jsonb(t.num), 'null'::jsonb)) FROM telemetry_points t
            WHERE t.series_id = (SELECT s.id FROM telemetry_series s WHERE s.device_id = r.device_id AND s.key = r.key) AND t.ts < ${SINCE}
            ORDER BY t.ts DESC LIMIT 1) END AS prev
    FROM rules r JOIN devices d ON d.id = r.device_id
   WHERE r.device_id = $1 AND r.enabled`;

const toRule = (r: RuleRow): LiveRule => ({
  id: r.id,
  ownerId: r.owner_id,
  name: r.name,
  deviceId: r.device_id,
  deviceName: r.device_name,
  key: r.key,
  op: r.op,
  value: r.value,
  forSeconds: r.for_seconds,
  actionType: r.action_type,
  params: r.action_params,
  targetDeviceId: r.target_device_id,
  webhookId: r.webhook_id,
  active: r.active,
  prev: r.prev ? r.prev[0] : undefined,
});

export interface FiringHooks {
  /** Drop a device's cached rules (they no longer match the database). */
  forget(deviceId: string): void;
  /** Keep track of background work, so the engine can wait for it. */
  track(work: Promise<unknown>): void;
}

/**
 * The database side of rules: loading a device's rules, recording transitions (only they write),
 * firing with loop protection, and the durable "for S seconds" job. Every write is a conditional
 * UPDATE, which is what makes a firing happen once when several processes see the same device.
 */
export class RuleFiring {
  constructor(
    private readonly pool: Pool,
    private readonly bus: EventBus,
    private readonly jobs: JobQueue,
    private readonly actions: ActionDeps,
    private readonly limits: LoopLimits,
    private readonly causation: Causation,
    private readonly hooks: FiringHooks,
  ) {
    jobs.register(HOLD_TASK, (payload) => this.hold(payload as { ruleId: string; since: number; depth: number }));
  }

  /** A device's enabled rules by the key they read; `at` is the time of the report that asks. */
  async load(deviceId: string, at: number): Promise<Map<string, KeyRules>> {
    const { rows } = await this.pool.query<RuleRow>(LOAD, [deviceId, at]);
    const rules = new Map<string, KeyRules>();
    for (const row of rows) {
      const bucket = rules.get(row.key);
      if (bucket) bucket.rules.push(toRule(row));
      else rules.set(row.key, { rules: [toRule(row)], seen: false, last: null });
    }
    return rules;
  }

  async cancelHold(ruleId: string): Promise<void> {
    await this.jobs.remove(holdJobKey(ruleId));
  }

  /** Tells every process that the rules reading this device changed (they reload them). */
  announce(deviceId: string): void {
    this.bus.publish(Topic.RulesChanged, { deviceId });
  }

  async leave(rule: LiveRule): Promise<void> {
    const { rowCount } = await this.pool.query(`UPDATE rules SET active = false, active_since = NULL WHERE id = $1 AND active`, [rule.id]);
    if (rule.forSeconds > 0) await this.cancelHold(rule.id);
    if (!rowCount) return this.hooks.forget(rule.deviceId);
    this.announce(rule.deviceId);
  }

  /** "for S seconds": entering adds a durable job, in the same statement, that fires the rule if it is still active then. */
  async arm(rule: LiveRule, at: number, depth: number): Promise<void> {
    const { rowCount } = await this.pool.query(ARM, [rule.id, at, depth, rule.forSeconds, HOLD_TASK, holdJobKey(rule.id)]);
    if (!rowCount) return this.hooks.forget(rule.deviceId);
    this.announce(rule.deviceId);
  }

  /**
   * Records a firing and starts the action, unless loop protection stops it (then the rule is
   * suspended). Resolves with the running action, which the caller may or may not wait for.
   */
  async fire(rule: FiringRule, actual: JsonValue | undefined, depth: number, kind: keyof typeof FIRING, at?: number): Promise<{ action?: Promise<void> }> {
    if (depth >= this.limits.maxDepth) {
      await this.suspend(rule, `it was triggered by a chain of ${depth} rule actions, each caused by the one before`);
      return {};
    }
    const { rows } = await this.pool.query<{ window_count: number }>(FIRING[kind], at === undefined ? [rule.id] : [rule.id, at]);
    if (!rows[0]) {
      this.hooks.forget(rule.deviceId); // changed, disabled or deleted behind our back
      return {};
    }
    if (rows[0].window_count > this.limits.maxFiringsPerMinute) {
      await this.suspend(rule, `it fired more than ${this.limits.maxFiringsPerMinute} times within a minute`);
      return {};
    }
    if (kind === "entering") this.announce(rule.deviceId);
    if (rule.targetDeviceId) this.causation.note(rule.targetDeviceId, rule.params.key!, rule.params.value as JsonValue, depth + 1);
    const action = runAction(this.actions, rule, actual).catch((error: Error) => {
      this.actions.log.warn({ err: error.message, ruleId: rule.id }, "rule action failed");
    });
    this.hooks.track(action);
    return { action };
  }

  private async suspend(rule: FiringRule, reason: string): Promise<void> {
    const { rowCount } = await this.pool.query(
      `UPDATE rules SET enabled = false, active = false, active_since = NULL, suspended_at = now(), suspended_reason = $2, updated_at = now()
        WHERE id = $1 AND enabled`,
      [rule.id, reason],
    );
    this.hooks.forget(rule.deviceId);
    if (!rowCount) return;
    this.announce(rule.deviceId);
    this.actions.log.warn({ ruleId: rule.id, reason }, "rule suspended by loop protection");
    await this.cancelHold(rule.id);
    await announceSuspension(this.actions, rule, reason);
  }

  /** The "for S seconds" job: fires only if the rule is still in the condition it entered at `since`. */
  private async hold(job: { ruleId: string; since: number; depth: number }): Promise<void> {
    const { rows } = await this.pool.query<RuleRow>(
      `SELECT ${COLUMNS} FROM rules r JOIN devices d ON d.id = r.device_id WHERE r.id = $1 AND r.enabled AND r.active AND r.active_since = ${SINCE}`,
      [job.ruleId, job.since],
    );
    if (!rows[0]) return; // left the condition, changed, disabled or deleted meanwhile
    const rule = toRule(rows[0]);
    const reported = await this.actions.reported(rule.deviceId).catch(() => undefined);
    // Awaited: the job ends after its action, so a shutdown waits for it. Never thrown: a retry would act twice.
    await (
      await this.fire(rule, reported?.[rule.key], job.depth, "held", job.since)
    ).action;
  }
}
