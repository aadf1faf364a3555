import { Initial1764250000000 } from "../../entities/migrations/1764250000000-initial.js";
import { Accounts1764250000001 } from "../../entities/migrations/1764250000001-accounts.js";
import { UserTimeZone1764250000010 } from "../../entities/migrations/1764250000010-user-time-zone.js";
import { User } from "../../entities/user.entity.js";
import { serverSecret } from "../../platform/secrets.js";
import { defineModule, type PlatformServices } from "../../platform/services.js";
import { AuthResolver } from "../../resolvers/accounts/auth.resolver.js";
import { appRoutes } from "../../../rest-compat/app.routes.js";
import { AuthService } from "./auth.service.js";
import { SessionService } from "./session.service.js";

/** Users, sign-up and login, password reset, sessions (access and refresh tokens). */
export interface AccountsServices {
  readonly sessions: SessionService;
  readonly auth: AuthService;
}

declare module "../../platform/services.js" {
  interface Services extends AccountsServices {}
}

export const accountsModule = defineModule({
  name: "accounts",
  entities: [User],
  // The initial migration creates users, devices and device state together: the first tables of all.
  migrations: [Initial1764250000000, Accounts1764250000001, UserTimeZone1764250000010],
  resolvers: [AuthResolver],
  routes: [appRoutes],
  async create({ config, pool, bus, dataSource, mailer }: PlatformServices): Promise<AccountsServices> {
    const sessions = new SessionService(await serverSecret(pool, "jwt", config.jwtSecret), pool, bus, config.accessTokenTtlSeconds);
    return { sessions, auth: new AuthService(dataSource, pool, sessions, mailer, bus, config) };
  },
});
