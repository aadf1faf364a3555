import { Column, Entity } from "typeorm";
import { Field, ObjectType } from "type-graphql";
import { BaseEntity } from "./base.entity.js";

@ObjectType()
export class NotificationSettings {
  @Field(() => Boolean)
  enabled: boolean;

  @Field(() => Boolean)
  email: boolean;

  @Field(() => Boolean)
  push: boolean;
}

@ObjectType()
@Entity({ name: "users" })
export class User extends BaseEntity {
  @Field(() => String)
  @Column({ type: "text" })
  email: string;

  @Field(() => String)
  @Column({ type: "text" })
  username: string;

  /** argon2id hash; null for accounts that cannot log in with a password. Never exposed. */
  @Column({ type: "text", name: "password_hash", nullable: true })
  passwordHash: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", name: "full_name", nullable: true })
  fullName: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  phone: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  bio: string | null;

  @Field(() => String)
  @Column({ type: "text", default: "user" })
  role: string;

  @Field(() => String, { nullable: true, description: "IANA time zone (Europe/Berlin): daily and weekly history buckets start at its midnight; null: UTC" })
  @Column({ type: "text", name: "time_zone", nullable: true })
  timeZone: string | null;

  @Column({ type: "boolean", name: "notify_enabled", default: true })
  notifyEnabled: boolean;

  @Column({ type: "boolean", name: "notify_email", default: false })
  notifyEmail: boolean;

  @Column({ type: "boolean", name: "notify_push", default: true })
  notifyPush: boolean;

  /** Access tokens issued before this instant are refused (password reset, account-wide logout). */
  @Column({ type: "timestamptz", name: "tokens_valid_after" })
  tokensValidAfter: Date;

  @Field(() => NotificationSettings)
  get notificationSettings(): NotificationSettings {
    return { enabled: this.notifyEnabled, email: this.notifyEmail, push: this.notifyPush };
  }
}
