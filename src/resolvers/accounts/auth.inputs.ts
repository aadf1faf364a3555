import { Field, InputType, Int, ObjectType } from "type-graphql";
import { User } from "../../entities/user.entity.js";

@InputType()
export class RegisterInput {
  @Field(() => String)
  email: string;

  @Field(() => String)
  username: string;

  @Field(() => String)
  password: string;

  @Field(() => String, { nullable: true })
  fullName?: string | null;
}

@InputType()
export class LoginInput {
  @Field(() => String, { description: "email or username" })
  login: string;

  @Field(() => String)
  password: string;
}

@InputType()
export class NotificationSettingsInput {
  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  email?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  push?: boolean | null;
}

@InputType()
export class UpdateMeInput {
  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  username?: string | null;

  @Field(() => String, { nullable: true })
  fullName?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  bio?: string | null;

  @Field(() => String, { nullable: true, description: "IANA time zone name such as Europe/Berlin; an empty string clears it (UTC)" })
  timeZone?: string | null;

  @Field(() => NotificationSettingsInput, { nullable: true })
  notificationSettings?: NotificationSettingsInput | null;
}

@ObjectType()
export class AuthPayload {
  @Field(() => String)
  accessToken: string;

  @Field(() => String, { description: "opaque, single use: every refresh returns a new one" })
  refreshToken: string;

  @Field(() => String)
  tokenType: string;

  @Field(() => User)
  user: User;
}

@ObjectType()
export class LogoutResponse {
  @Field(() => String)
  message: string;

  @Field(() => Int, { description: "refresh tokens revoked by this call" })
  tokensDeleted: number;

  @Field(() => Boolean)
  alreadyLoggedOut: boolean;
}
