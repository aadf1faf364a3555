import { Field, ID, InputType, ObjectType } from "type-graphql";
import { Webhook, WebhookEvent } from "../../entities/webhook.entity.js";

@InputType()
export class CreateWebhookInput {
  @Field(() => String, { description: "http:// or https://, at most 2048 characters" })
  url: string;

  @Field(() => [WebhookEvent])
  events: WebhookEvent[];

  @Field(() => ID, { nullable: true, description: "Only this device's events (one of the caller's devices)" })
  deviceId?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Default true" })
  active?: boolean | null;

  @Field(() => String, { nullable: true, description: "16 to 256 printable ASCII characters; generated when absent" })
  secret?: string | null;
}

@InputType({ description: "Absent fields stay as they are; deviceId: null removes the device filter" })
export class UpdateWebhookInput {
  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [WebhookEvent], { nullable: true })
  events?: WebhookEvent[] | null;

  @Field(() => ID, { nullable: true })
  deviceId?: string | null;

  @Field(() => Boolean, { nullable: true })
  active?: boolean | null;

  @Field(() => String, { nullable: true })
  secret?: string | null;
}

@ObjectType({ description: "The only time a webhook's secret is shown: store it where the receiver checks signatures." })
export class WebhookWithSecret {
  @Field(() => Webhook)
  webhook: Webhook;

  @Field(() => String)
  secret: string;
}
