import { Column, Entity } from "typeorm";
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "./base.entity.js";

/**
 * Events a webhook can subscribe to. The GraphQL names are the old backend's lower_snake strings, so
 * apps and stored rows keep the values they always had; `all` matches every event.
 */
export enum WebhookEvent {
  telemetry_update = "telemetry_update",
  device_online = "device_online",
  device_offline = "device_offline",
  state_confirmed = "state_confirmed",
  schedule_executed = "schedule_executed",
  ota_updated = "ota_updated",
  ota_failed = "ota_failed",
  release_aborted = "release_aborted",
  all = "all",
}
registerEnumType(WebhookEvent, {
  name: "WebhookEvent",
  description: "Values are the old backend's lower_snake event names; `all` matches every event",
});

/** An HTTP endpoint of the user's that receives events. The secret is stored encrypted only. */
@ObjectType()
@Entity({ name: "webhooks" })
export class Webhook extends BaseEntity {
  @Column({ type: "uuid", name: "user_id" })
  ownerId: string;

  @Field(() => String)
  @Column({ type: "text" })
  url: string;

  @Field(() => [WebhookEvent])
  @Column({ type: "text", array: true })
  events: WebhookEvent[];

  @Field(() => ID, { nullable: true, description: "Only this device's events; null: all of the user's devices" })
  @Column({ type: "uuid", name: "device_id", nullable: true })
  deviceId: string | null;

  @Field(() => Boolean)
  @Column({ type: "boolean", default: true })
  active: boolean;

  /** SecretBox-sealed signing secret (see webhook.service). Never exposed. */
  @Column({ type: "text", name: "secret_sealed" })
  secretSealed: string;

  @Field(() => String, { description: 'Enough of the secret to recognise it, e.g. "whsec_…1a2b"' })
  @Column({ type: "text", name: "secret_preview" })
  secretPreview: string;
}
