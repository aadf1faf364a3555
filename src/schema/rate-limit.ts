import { getGraphQLRateLimiter, type Identity, type Store } from "graphql-rate-limit";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { LruMap } from "toad-cache";
import { UseMiddleware } from "type-graphql";
import { AppError } from "../platform/errors.js";
import type { GqlContext } from "./context.js";

const keyOf = (identity: Identity) => `${identity.contextIdentity}|${identity.fieldIdentity}`;

/** graphql-rate-limit's own in-memory store never forgets an identity; this one is an LRU with expiry. */
export class LruStore implements Store {
  private readonly map = new LruMap<readonly number[]>(100_000, 24 * 3600_000);
  setForIdentity(identity: Identity, timestamps: readonly number[]): void {
    this.map.set(keyOf(identity), timestamps);
  }
  getForIdentity(identity: Identity): readonly number[] {
    return this.map.get(keyOf(identity)) ?? [];
  }
}

/**
 * Shared by every process (graphql-rate-limit's RedisStore speaks the old node-redis v3 API). While
 * Redis cannot be reached the budgets are counted in this process instead: a login must not fail
 * with INTERNAL_SERVER_ERROR because the counter store is down, and no budget stops applying.
 */
export class IoRedisStore implements Store {
  private readonly local = new LruStore();
  private warnedAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log?: Logger,
  ) {}
  async setForIdentity(identity: Identity, timestamps: readonly number[], windowMs = 60_000): Promise<void> {
    this.local.setForIdentity(identity, timestamps);
    await this.redis.set(`${this.prefix}${keyOf(identity)}`, JSON.stringify(timestamps), "PX", windowMs).catch((error: Error) => this.degraded(error));
  }
  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    try {
      const raw = await this.redis.get(`${this.prefix}${keyOf(identity)}`);
      return raw ? (JSON.parse(raw) as number[]) : [];
    } catch (error) {
      this.degraded(error as Error);
      return this.local.getForIdentity(identity);
    }
  }
  private degraded(error: Error): void {
    if (Date.now() - this.warnedAt < 60_000) return;
    this.warnedAt = Date.now();
    this.log?.warn({ err: error.message }, "GraphQL budgets counted in this process: Redis unreachable");
  }
}

export type GqlRateLimiter = ReturnType<typeof getGraphQLRateLimiter>;

/** @param namespace the deployment's, as in its event-bus channel: budgets are not shared across deployments */
export function createGqlRateLimiter(redis: Redis | undefined, namespace: string, log?: Logger): GqlRateLimiter {
  return getGraphQLRateLimiter({
    identifyContext: (key: { id: string }) => key.id,
    store: redis ? new IoRedisStore(redis, `thingsnxt:${namespace}:gql-rl:`, log) : new LruStore(),
    // Every rate-limited operation is a mutation, and GraphQL runs a request's mutations one after
    // another, so each alias is read and counted in turn. The batch cache (meant for parallel query
    // fields) would count earlier aliases twice.
    enableBatchRequestCache: false,
    formatError: ({ fieldName, max, window }) => `Too many ${fieldName} calls: at most ${max} per ${Math.round(window / 1000)} s; retry later`,
  });
}

export interface RateLimitRule {
  max: number;
  windowSeconds: number;
  /** Who is counted; default: the client address. */
  by?: (args: Record<string, unknown>, ctx: GqlContext) => string;
}

/** Budget for one mutation, enforced by graphql-rate-limit before the resolver runs. */
export function RateLimited(rule: RateLimitRule): MethodDecorator {
  return UseMiddleware(async ({ args, context: raw, info, root }, next) => {
    if (info.operation.operation !== "mutation") throw new Error(`@RateLimited is for mutations only (${info.fieldName})`);
    const context = raw as GqlContext;
    const id = `${info.fieldName}:${rule.by ? rule.by(args, context) : `ip:${context.ip}`}`;
    const message = await context.services.gqlRateLimiter(
      { parent: root, args, context: { id }, info },
      { max: rule.max * context.services.config.graphqlRateLimitFactor, window: `${rule.windowSeconds}s` },
    );
    if (message) throw new AppError("RATE_LIMITED", message);
    return next();
  });
}

declare module "../platform/services.js" {
  interface Services {
    /** Per-operation budgets of the GraphQL API (login, register, commands...), created by the app. */
    readonly gqlRateLimiter: GqlRateLimiter;
  }
}
