import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import type { EventBus } from "./event-bus.js";
import type { Outbox } from "./db/outbox.js";
import type { JobQueue } from "./jobs.js";
import type { Mailer } from "./mailer.js";

/** The mechanisms every feature builds on, created by the composition root (`src/app/services.ts`). */
export interface PlatformServices {
  readonly config: Config;
  readonly log: Logger;
  readonly dataSource: DataSource;
  readonly pool: Pool;
  readonly redis: Redis | undefined;
  /** Separates deployments (and test databases) sharing one Redis: in every Redis key and channel. */
  readonly namespace: string;
  readonly bus: EventBus;
  /** Durable jobs: modules register their tasks in `create`; the worker starts after all of them. */
  readonly jobs: JobQueue;
  /** Events committed with the change that raised them, for side effects that must survive a crash. */
  readonly outbox: Outbox;
  readonly mailer: Mailer;
  /** Set when the process starts shutting down: readiness fails from then on. */
  readonly lifecycle: { drainingSince: number | undefined };
}

/**
 * Every service of one server process, as the adapters (GraphQL resolvers, REST routes) see it.
 * Each feature module adds its own services to this interface by declaration merging, the way
 * Fastify's decorators do, so no layer below the app has to import the app to name them.
 */
export interface Services extends PlatformServices {
  stop(): Promise<void>;
}

/** REST routes a module contributes (firmware contract, old app routes). */
export type RoutePlugin = (app: FastifyInstance, services: Services) => void;

/**
 * One feature's manifest: what it adds to each layer. `create` receives exactly the services the
 * module declares it needs (`Deps`, an interface the root satisfies) and returns its own.
 */
export interface FeatureModule<Deps, Provided> {
  readonly name: string;
  /** TypeORM entities (the schema's tables are created by the migrations). */
  readonly entities: readonly Function[];
  /** Migrations this feature introduced; the root runs all of them in timestamp order. */
  readonly migrations: readonly Function[];
  /** type-graphql resolver classes. */
  readonly resolvers: readonly Function[];
  readonly routes: readonly RoutePlugin[];
  /** Builds the services; registers job tasks and event subscriptions (before the job worker starts). */
  create(deps: Deps): Provided | Promise<Provided>;
  /** After every module is created and the job worker runs. */
  started?(provided: Provided): Promise<void> | void;
  /** At shutdown, in reverse module order, before the job worker and the database stop. */
  stop?(provided: Provided): Promise<void>;
}

/** Declares a module with its types inferred. */
export function defineModule<Deps, Provided>(module: FeatureModule<Deps, Provided>): FeatureModule<Deps, Provided> {
  return module;
}
