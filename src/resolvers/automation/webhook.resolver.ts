import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import { Webhook } from "../../entities/webhook.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { deviceLoader } from "../devices/device.resolver.js";
import { CreateWebhookInput, UpdateWebhookInput, WebhookWithSecret } from "./webhook.inputs.js";

@Resolver(() => Webhook)
export class WebhookResolver {
  @Authorized()
  @Query(() => [Webhook])
  webhooks(@Ctx() ctx: GqlContext): Promise<Webhook[]> {
    return ctx.services.webhooks.list(userIdOf(ctx));
  }

  @Authorized()
  @Mutation(() => WebhookWithSecret, { description: "At most 50 per account" })
  createWebhook(@Arg("input", () => CreateWebhookInput) input: CreateWebhookInput, @Ctx() ctx: GqlContext): Promise<WebhookWithSecret> {
    return ctx.services.webhooks.create(userIdOf(ctx), input);
  }

  @Authorized()
  @Mutation(() => Webhook)
  updateWebhook(@Arg("id", () => ID) id: string, @Arg("input", () => UpdateWebhookInput) input: UpdateWebhookInput, @Ctx() ctx: GqlContext): Promise<Webhook> {
    return ctx.services.webhooks.update(userIdOf(ctx), id, input);
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.webhooks.delete(userIdOf(ctx), id);
  }

  @FieldResolver(() => Device, { nullable: true, description: "The device of the filter; null when the webhook covers all devices" })
  device(@Root() webhook: Webhook, @Ctx() ctx: GqlContext): Promise<Device | null> | null {
    return webhook.deviceId === null ? null : deviceLoader(ctx).load(webhook.deviceId);
  }
}
