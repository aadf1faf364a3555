import { Column, Entity } from "typeorm";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar, JSONScalar } from "../schema/scalars.js";
import { BaseEntity } from "./base.entity.js";

/** GraphQL enum names cannot be symbols; the description of each value gives it. */
export enum RuleOp {
  GT = "GT",
  GTE = "GTE",
  LT = "LT",
  LTE = "LTE",
  EQ = "EQ",
  NEQ = "NEQ",
  CHANGED = "CHANGED",
}
registerEnumType(RuleOp, {
  name: "RuleOp",
  description: "How the reported value is compared with the rule's value",
  valuesConfig: {
    GT: { description: "> (numbers; true/false count as 1/0)" },
    GTE: { description: ">=" },
    LT: { description: "<" },
    LTE: { description: "<=" },
    EQ: { description: "== (numbers, strings, booleans; 1 equals true, 0 equals false)" },
    NEQ: { description: "!=" },
    CHANGED: { description: "the value differs from the device's previous report of the key; takes no value" },
  },
});

export enum RuleActionType {
  SET_STATE = "SET_STATE",
  NOTIFY = "NOTIFY",
  WEBHOOK = "WEBHOOK",
}
registerEnumType(RuleActionType, {
  name: "RuleActionType",
  valuesConfig: {
    SET_STATE: { description: "Command a key of one of the owner's devices (a desired value, as the app's switch)" },
    NOTIFY: { description: "A notification of type rule_fired" },
    WEBHOOK: { description: "A delivery to one of the owner's webhooks" },
  },
});

/** What a rule compares with: a number, string or boolean; null for CHANGED. */
export type RuleOperand = number | string | boolean | null;

/**
 * Per action type; the target device and webhook have their own columns so their deletion cascades.
 * `value` is any JSON a command may carry (typed loosely: TypeORM's deep partial types cannot recurse
 * through JsonValue).
 */
export interface RuleActionParams {
  key?: string;
  value?: string | number | boolean | object | null;
  message?: string;
}

/**
 * "When device D's key K <op> value [for S seconds] then <action>". The `active` flag and the firing
 * counters are written by the rule engine on transitions only (see rule-engine.ts).
 */
@ObjectType()
@Entity({ name: "rules" })
export class Rule extends BaseEntity {
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Field(() => String)
  @Column({ type: "text" })
  name: string;

  @Field(() => Boolean, { description: "A rule suspended by loop protection is disabled; enabling it again re-arms it" })
  @Column({ type: "boolean", default: true })
  enabled: boolean;

  @Field(() => ID, { description: "The device whose reports the rule reads" })
  @Column({ type: "uuid", name: "device_id" })
  deviceId: string;

  @Field(() => String)
  @Column({ type: "text" })
  key: string;

  @Field(() => RuleOp)
  @Column({ type: "text" })
  op: RuleOp;

  @Field(() => JSONScalar, { nullable: true, description: "What the reported value is compared with; null for CHANGED" })
  @Column({ type: "jsonb", nullable: true })
  value: RuleOperand;

  @Field(() => Int, { description: "The condition must hold this long, without interruption, before the rule fires; 0: at once" })
  @Column({ type: "int", name: "for_seconds", default: 0 })
  forSeconds: number;

  @Column({ type: "text", name: "action_type" })
  actionType: RuleActionType;

  @Column({ type: "jsonb", name: "action_params", default: () => "'{}'" })
  actionParams: RuleActionParams;

  @Column({ type: "uuid", name: "target_device_id", nullable: true })
  targetDeviceId: string | null;

  @Column({ type: "uuid", name: "webhook_id", nullable: true })
  webhookId: string | null;

  @Field(() => Boolean, {
    description: "The condition held at the device's last report (a rule fires on entering it, or after forSeconds in it); false for CHANGED",
  })
  @Column({ type: "boolean", default: false })
  active: boolean;

  @Column({ type: "timestamptz", name: "active_since", nullable: true })
  activeSince: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ type: "timestamptz", name: "last_fired_at", nullable: true })
  lastFiredAt: Date | null;

  /** Loop protection: start and number of firings of the current one-minute window. */
  @Column({ type: "timestamptz", name: "window_start", nullable: true })
  windowStart: Date | null;

  @Column({ type: "int", name: "window_count", default: 0 })
  windowCount: number;

  @Field(() => DateTimeScalar, { nullable: true, description: "When loop protection disabled the rule; null otherwise" })
  @Column({ type: "timestamptz", name: "suspended_at", nullable: true })
  suspendedAt: Date | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", name: "suspended_reason", nullable: true })
  suspendedReason: string | null;
}
