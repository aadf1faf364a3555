import "reflect-metadata";
import type { Pool } from "pg";
import { DataSource } from "typeorm";
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver.js";

/** The longest a query may take; migrations run on their own connection without it. */
export const QUERY_TIMEOUT_MS = 5000;

/** The app passes every module's entities and migrations (`src/app/modules.ts`). */
export function createDataSource(url: string, poolSize: number, schema: { entities: Function[]; migrations: Function[] }): DataSource {
  const { entities, migrations } = schema;
  return new DataSource({
    type: "postgres",
    url,
    entities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    uuidExtension: "pgcrypto",
    // A database that is gone or frozen (a stalled disk, a partition) becomes a 503 within a bound
    // instead of a hang: a connection is given 2 s, a query 5 s on the client (a frozen server never
    // answers a server-side timeout), and the server itself ends statements and idle transactions
    // that run away. TCP keep-alive notices a peer that vanished.
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 2000,
      query_timeout: QUERY_TIMEOUT_MS,
      statement_timeout: QUERY_TIMEOUT_MS - 500,
      idle_in_transaction_session_timeout: 10_000,
      keepAlive: true,
    },
  });
}

/** The pg pool under TypeORM, for the few hot paths that send hand-written batched SQL. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as PostgresDriver).master as Pool;
}
