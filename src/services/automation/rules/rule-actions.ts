import type { Logger } from "pino";
import type { JsonValue } from "../../../platform/json.js";
import { RuleActionType, type RuleActionParams, type RuleOp, type RuleOperand } from "../../../entities/rule.entity.js";
import type { ControlService } from "../../telemetry/control.service.js";
import type { NotificationService } from "../../notifications/notification.service.js";
import { describeCondition } from "./rule-condition.js";

/** What the engine knows of a rule when it fires. */
export interface FiringRule {
  readonly id: string;
  readonly ownerId: string;
  readonly name: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly key: string;
  readonly op: RuleOp;
  readonly value: RuleOperand;
  readonly forSeconds: number;
  readonly actionType: RuleActionType;
  readonly params: RuleActionParams;
  readonly targetDeviceId: string | null;
  readonly webhookId: string | null;
}

/** What the rules need of webhook delivery (webhook-delivery.service.ts): one delivery to one webhook. */
export interface WebhookEnqueuer {
  enqueueTo(userId: string, webhookId: string, event: string, data: Record<string, JsonValue>, deviceId?: string | null): Promise<unknown>;
}

export interface ActionDeps {
  readonly control: ControlService;
  readonly notifications: NotificationService;
  readonly log: Logger;
  readonly webhooks: WebhookEnqueuer;
  /** A device's reported values now (from memory): what a "for S seconds" rule reports when it fires. */
  readonly reported: (deviceId: string) => Promise<Record<string, JsonValue>>;
}

/** What a rule's action receives; also the data of its notification and webhook delivery. */
export function firingData(rule: FiringRule, actual: JsonValue | undefined): Record<string, JsonValue> {
  return {
    ruleId: rule.id,
    ruleName: rule.name,
    deviceId: rule.deviceId,
    key: rule.key,
    op: rule.op,
    threshold: rule.value,
    value: actual === undefined ? null : actual,
    condition: describeCondition(rule.key, rule.op, rule.value, rule.forSeconds),
  };
}

/**
 * Carries out a rule's action. A command goes through the app's own command path (ownership,
 * validation, a desired value the device picks up); failures are logged, never thrown back into
 * evaluation.
 */
export async function runAction(deps: ActionDeps, rule: FiringRule, actual: JsonValue | undefined): Promise<void> {
  switch (rule.actionType) {
    case RuleActionType.SET_STATE:
      await deps.control.setDevicesState(rule.ownerId, [rule.targetDeviceId!], { [rule.params.key!]: rule.params.value as JsonValue });
      return;
    case RuleActionType.NOTIFY: {
      const condition = describeCondition(rule.key, rule.op, rule.value, rule.forSeconds);
      const now = actual === undefined ? "" : ` (now ${JSON.stringify(actual)})`;
      await deps.notifications.notify(rule.ownerId, {
        type: "rule_fired",
        title: `Rule "${rule.name}" fired`,
        message: rule.params.message ?? `${rule.deviceName}: ${condition}${now}`,
        data: firingData(rule, actual),
      });
      return;
    }
    case RuleActionType.WEBHOOK:
      // That webhook only, whatever events it subscribed to: the rule names it.
      await deps.webhooks.enqueueTo(rule.ownerId, rule.webhookId!, "rule_fired", firingData(rule, actual), rule.deviceId);
      return;
  }
}

export async function announceSuspension(deps: ActionDeps, rule: FiringRule, reason: string): Promise<void> {
  await deps.notifications.notify(rule.ownerId, {
    type: "rule_suspended",
    title: `Rule "${rule.name}" was suspended`,
    message: `${reason}. Loop protection disabled it; enable it again once its action no longer triggers it.`,
    data: { ruleId: rule.id, deviceId: rule.deviceId, reason },
  });
}
