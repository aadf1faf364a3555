import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import type { JsonValue } from "../../platform/json.js";
import { RuleActionType, RuleOp } from "../../entities/rule.entity.js";
import { JSONScalar } from "../../schema/scalars.js";

@ObjectType({ description: "What a rule does when it fires; the fields beside type belong to that type" })
export class RuleAction {
  @Field(() => RuleActionType)
  type: RuleActionType;

  @Field(() => ID, { nullable: true, description: "SET_STATE: the device commanded" })
  deviceId: string | null;

  @Field(() => String, { nullable: true, description: "SET_STATE: the key commanded" })
  key: string | null;

  @Field(() => JSONScalar, { nullable: true, description: "SET_STATE: the value it is set to" })
  value: JsonValue | null;

  @Field(() => String, { nullable: true, description: "NOTIFY: the notification's text; absent: the condition and the value" })
  message: string | null;

  @Field(() => ID, { nullable: true, description: "WEBHOOK: the webhook called" })
  webhookId: string | null;
}

@InputType({ description: "type plus the fields of that type: SET_STATE deviceId, key, value; NOTIFY message?; WEBHOOK webhookId" })
export class RuleActionInput {
  @Field(() => RuleActionType)
  type: RuleActionType;

  @Field(() => ID, { nullable: true })
  deviceId?: string | null;

  @Field(() => String, { nullable: true })
  key?: string | null;

  @Field(() => JSONScalar, { nullable: true })
  value?: JsonValue | null;

  @Field(() => String, { nullable: true, description: "At most 500 characters" })
  message?: string | null;

  @Field(() => ID, { nullable: true })
  webhookId?: string | null;
}

@InputType({ description: "When device deviceId reports key <op> value (for forSeconds seconds), then action" })
export class CreateRuleInput {
  @Field(() => String, { description: "1 to 100 characters" })
  name: string;

  @Field(() => ID, { description: "One of the caller's devices" })
  deviceId: string;

  @Field(() => String)
  key: string;

  @Field(() => RuleOp)
  op: RuleOp;

  @Field(() => JSONScalar, { nullable: true, description: "A number for GT/GTE/LT/LTE; a number, string or boolean for EQ/NEQ; absent for CHANGED" })
  value?: JsonValue | null;

  @Field(() => Int, { nullable: true, description: "0 (default) to 86400; must be 0 for CHANGED" })
  forSeconds?: number | null;

  @Field(() => Boolean, { nullable: true, description: "Default true" })
  enabled?: boolean | null;

  @Field(() => RuleActionInput)
  action: RuleActionInput;
}

@InputType({ description: "Absent fields stay as they are; value: null clears the value; an action replaces the action" })
export class UpdateRuleInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => ID, { nullable: true })
  deviceId?: string | null;

  @Field(() => String, { nullable: true })
  key?: string | null;

  @Field(() => RuleOp, { nullable: true })
  op?: RuleOp | null;

  @Field(() => JSONScalar, { nullable: true })
  value?: JsonValue | null;

  @Field(() => Int, { nullable: true })
  forSeconds?: number | null;

  @Field(() => Boolean, { nullable: true, description: "true also lifts a suspension by loop protection" })
  enabled?: boolean | null;

  @Field(() => RuleActionInput, { nullable: true })
  action?: RuleActionInput | null;
}
