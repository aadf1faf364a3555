import { Column, Entity } from "typeorm";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar, JSONObjectScalar } from "../schema/scalars.js";
import { BaseEntity } from "./base.entity.js";

export enum WebhookDeliveryStatus {
  PENDING = "pending",
  SUCCEEDED = "succeeded",
  FAILED = "failed",
}
registerEnumType(WebhookDeliveryStatus, {
  name: "WebhookDeliveryStatus",
  description: "PENDING: not delivered yet, another attempt will come; SUCCEEDED: a 2xx answer; FAILED: retries exhausted or refused",
});

@ObjectType({ description: "One POST of a delivery to the receiver" })
export class WebhookDeliveryAttempt {
  @Field(() => DateTimeScalar)
  at: Date;

  @Field(() => Int, { nullable: true, description: "null when no answer came (timeout, network error, refused address)" })
  statusCode: number | null;

  @Field(() => Int)
  durationMs: number;

  @Field(() => String, { nullable: true })
  error: string | null;
}

/** One event sent to one webhook: the exact payload, its attempts and how it ended. */
@ObjectType()
@Entity({ name: "webhook_deliveries" })
export class WebhookDelivery extends BaseEntity {
  @Field(() => ID)
  @Column({ type: "uuid", name: "webhook_id" })
  webhookId: string;

  @Field(() => String, { description: "A WebhookEvent value (never all), or rule_fired for a rule's webhook action" })
  @Column({ type: "text" })
  event: string;

  @Field(() => JSONObjectScalar, { description: "The body that is POSTed: {id, event, timestamp, data}; id is this delivery's id" })
  @Column({ type: "jsonb" })
  payload: Record<string, unknown>;

  @Field(() => WebhookDeliveryStatus)
  @Column({ type: "text", default: WebhookDeliveryStatus.PENDING })
  status: WebhookDeliveryStatus;

  @Field(() => Int, { description: "POSTs made so far" })
  @Column({ type: "int", default: 0 })
  attempts: number;

  @Field(() => [WebhookDeliveryAttempt], { complexity: 1, description: "Oldest first (a handful at most, kept with the delivery)" })
  @Column({ type: "jsonb", name: "attempt_log", default: () => "'[]'" })
  attemptLog: WebhookDeliveryAttempt[];

  @Field(() => Int, { nullable: true })
  @Column({ type: "int", name: "last_status_code", nullable: true })
  lastStatusCode: number | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", name: "last_error", nullable: true })
  lastError: string | null;

  @Field(() => Int, { nullable: true })
  @Column({ type: "int", name: "last_duration_ms", nullable: true })
  lastDurationMs: number | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the next attempt is due (PENDING after a failed attempt)" })
  @Column({ type: "timestamptz", name: "next_attempt_at", nullable: true })
  nextAttemptAt: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it SUCCEEDED or FAILED for good" })
  @Column({ type: "timestamptz", name: "finished_at", nullable: true })
  finishedAt: Date | null;
}
