import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { JsonValue } from "../../platform/json.js";
import { Device } from "../../entities/device.entity.js";
import { Rule } from "../../entities/rule.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { deviceLoader } from "../devices/device.resolver.js";
import { CreateRuleInput, RuleAction, UpdateRuleInput } from "./rule.inputs.js";

@Resolver(() => Rule)
export class RuleResolver {
  @Authorized()
  @Query(() => [Rule], { description: "The caller's rules, oldest first" })
  rules(@Ctx() ctx: GqlContext): Promise<Rule[]> {
    return ctx.services.rules.list(userIdOf(ctx));
  }

  @Authorized()
  @Query(() => Rule, { nullable: true, description: "null when missing or not the caller's" })
  rule(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Rule | null> {
    return ctx.services.rules.get(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Rule, { description: "At most 200 per account" })
  createRule(@Arg("input", () => CreateRuleInput) input: CreateRuleInput, @Ctx() ctx: GqlContext): Promise<Rule> {
    return ctx.services.rules.create(userIdOf(ctx), input);
  }

  @Authorized()
  @Mutation(() => Rule)
  updateRule(@Arg("id", () => ID) id: string, @Arg("input", () => UpdateRuleInput) input: UpdateRuleInput, @Ctx() ctx: GqlContext): Promise<Rule> {
    return ctx.services.rules.update(userIdOf(ctx), id, input);
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteRule(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.rules.delete(userIdOf(ctx), id);
  }

  @FieldResolver(() => Device, { description: "The device whose reports the rule reads" })
  device(@Root() rule: Rule, @Ctx() ctx: GqlContext): Promise<Device | null> {
    return deviceLoader(ctx).load(rule.deviceId);
  }

  @FieldResolver(() => RuleAction)
  action(@Root() rule: Rule): RuleAction {
    return {
      type: rule.actionType,
      deviceId: rule.targetDeviceId,
      key: rule.actionParams.key ?? null,
      value: rule.actionParams.value === undefined ? null : (rule.actionParams.value as JsonValue),
      message: rule.actionParams.message ?? null,
      webhookId: rule.webhookId,
    };
  }
}

@Resolver(() => RuleAction)
export class RuleActionResolver {
  @FieldResolver(() => Device, { nullable: true, description: "SET_STATE: the device commanded" })
  device(@Root() action: RuleAction, @Ctx() ctx: GqlContext): Promise<Device | null> | null {
    return action.deviceId === null ? null : deviceLoader(ctx).load(action.deviceId);
  }
}
