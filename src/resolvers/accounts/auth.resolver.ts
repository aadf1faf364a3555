import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { User } from "../../entities/user.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { RateLimited } from "../../schema/rate-limit.js";

/** A name as a budget counts it: padding, case and Unicode forms of one name share one budget. */
const budgetKey = (value: unknown) => String(value).normalize("NFKC").trim().toLowerCase();
import { AuthPayload, LoginInput, LogoutResponse, RegisterInput, UpdateMeInput } from "./auth.inputs.js";

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload)
  @RateLimited({ max: 10, windowSeconds: 3600 })
  register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: GqlContext): Promise<AuthPayload> {
    return ctx.services.auth.register(input);
  }

  @Mutation(() => AuthPayload)
  // Per login name (guessing one account's password) and per address (spraying many accounts).
  @RateLimited({ max: 10, windowSeconds: 300, by: (args) => `name:${budgetKey((args.input as LoginInput).login)}` })
  @RateLimited({ max: 30, windowSeconds: 300 })
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() ctx: GqlContext): Promise<AuthPayload> {
    return ctx.services.auth.login(input.login, input.password);
  }

  @Mutation(() => AuthPayload)
  @RateLimited({ max: 60, windowSeconds: 300 })
  refreshToken(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() ctx: GqlContext): Promise<AuthPayload> {
    return ctx.services.auth.refresh(refreshToken);
  }

  /** Never rate limited; succeeds even with a revoked or missing token (alreadyLoggedOut). */
  @Mutation(() => LogoutResponse)
  logout(@Ctx() ctx: GqlContext): Promise<LogoutResponse> {
    return ctx.services.auth.logout(ctx.user ?? (ctx.authFailure === "revoked" ? ctx.presented : undefined));
  }

  @Authorized()
  @Query(() => User)
  me(@Ctx() ctx: GqlContext): Promise<User> {
    return ctx.services.auth.me(userIdOf(ctx));
  }

  @Authorized()
  @Mutation(() => User)
  updateMe(@Arg("input", () => UpdateMeInput) input: UpdateMeInput, @Ctx() ctx: GqlContext): Promise<User> {
    return ctx.services.auth.updateMe(userIdOf(ctx), input);
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteMe(@Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.auth.deleteMe(userIdOf(ctx));
  }

  @Mutation(() => Boolean, { description: "true whether or not the email exists" })
  @RateLimited({ max: 5, windowSeconds: 3600, by: (args) => `email:${budgetKey(args.email)}` })
  @RateLimited({ max: 20, windowSeconds: 3600 })
  requestPasswordReset(@Arg("email", () => String) email: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.auth.requestPasswordReset(email);
  }

  @Mutation(() => Boolean)
  @RateLimited({ max: 10, windowSeconds: 3600 })
  resetPassword(@Arg("token", () => String) token: string, @Arg("newPassword", () => String) newPassword: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.auth.resetPassword(token, newPassword);
  }
}
