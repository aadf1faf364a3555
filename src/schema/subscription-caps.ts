import { GraphQLError } from "graphql";
import { AppError } from "../platform/errors.js";

export interface SubscriptionLimits {
  /** Subscriptions open at once on one graphql-ws socket. */
  readonly perSocket: number;
  /** Subscriptions open at once for one user, over every socket and SSE stream of this process. */
  readonly perUser: number;
}

// Through AppError, so that formatError keeps the code (a bare GraphQLError code is not trusted).
const refusal = (message: string) => new GraphQLError(message, { originalError: new AppError("RATE_LIMITED", message), extensions: { code: "RATE_LIMITED" } });

/**
 * Each open subscription holds an event-bus handler, a buffer of up to 1000 events and, over
 * graphql-ws, a slot of its socket: without a cap one client could open them until memory runs out.
 * Counted per process; a refusal is an error result of that one subscribe, the socket stays open.
 */
export class SubscriptionCaps {
  private readonly byUser = new Map<string, number>();

  constructor(readonly limits: SubscriptionLimits) {}

  /** One more subscription of this user: the function that gives it back (any number of calls), or the refusal. */
  take(userId: string): (() => void) | GraphQLError {
    const held = this.byUser.get(userId) ?? 0;
    if (held >= this.limits.perUser) {
      return refusal(`Too many subscriptions for this user: at most ${this.limits.perUser} at a time (SUBSCRIPTIONS_PER_USER); complete some first`);
    }
    this.byUser.set(userId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.byUser.get(userId) ?? 1) - 1;
      if (left > 0) this.byUser.set(userId, left);
      else this.byUser.delete(userId);
    };
  }

  /** The subscriptions of one socket, by subscription id. */
  socket(): SocketSubscriptions {
    return new SocketSubscriptions(this);
  }
}

export class SocketSubscriptions {
  private readonly held = new Map<string, () => void>();

  constructor(private readonly caps: SubscriptionCaps) {}

  /** Counts subscription `id` for the socket and the user; the refusal when either is full. */
  take(id: string, userId: string): GraphQLError | undefined {
    const max = this.caps.limits.perSocket;
    if (this.held.size >= max)
      return refusal(`Too many subscriptions on this socket: at most ${max} at a time (SUBSCRIPTIONS_PER_SOCKET); complete some first`);
    const release = this.caps.take(userId);
    if (release instanceof GraphQLError) return release;
    this.held.get(id)?.(); // an id reused while graphql-ws was still completing it
    this.held.set(id, release);
    return undefined;
  }

  release(id: string): void {
    this.held.get(id)?.();
    this.held.delete(id);
  }

  /** The socket closed: every slot goes back, including those of a subscribe still being set up. */
  releaseAll(): void {
    for (const release of this.held.values()) release();
    this.held.clear();
  }
}
