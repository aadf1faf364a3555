import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";
import { WebhookDelivery } from "../../entities/webhook-delivery.entity.js";
import { Webhook } from "../../entities/webhook.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { checkFirst } from "../../services/automation/webhooks/webhook-delivery.log.js";

@Resolver(() => Webhook)
export class WebhookDeliveryResolver {
  @Authorized()
  @Query(() => [WebhookDelivery], { description: "A webhook's deliveries, newest first; first: 1..100, default 20" })
  webhookDeliveries(
    @Arg("webhookId", () => ID) webhookId: string,
    @Arg("first", () => Int, { nullable: true }) first: number | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<WebhookDelivery[]> {
    return ctx.services.webhookDeliveries.log.list(userIdOf(ctx), webhookId, first);
  }

  /** One query serves every webhook of the response. */
  @Authorized()
  @FieldResolver(() => [WebhookDelivery], { description: "Newest first; first: 1..100, default 20" })
  deliveries(
    @Root() webhook: Webhook,
    @Arg("first", () => Int, { nullable: true }) first: number | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<WebhookDelivery[]> {
    const n = checkFirst(first);
    const userId = userIdOf(ctx);
    const log = ctx.services.webhookDeliveries.log;
    return loaderOf<string, WebhookDelivery[]>(ctx, `webhookDeliveries:${n}`, async (ids) => {
      const found = await log.latest(userId, ids, n);
      return ids.map((id) => found.get(id) ?? []);
    }).load(webhook.id);
  }
}
