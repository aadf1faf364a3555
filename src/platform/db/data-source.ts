import "reflect-metadata";
import type { Pool } from "pg";
import { DataSource } from "typeorm";
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver.js";

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
    // Fail fast when the database is gone so requests get a 503 instead of hanging.
    extra: { max: poolSize, connectionTimeoutMillis: 3000 },
  });
}

/** The pg pool under TypeORM, for the few hot paths that send hand-written batched SQL. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as PostgresDriver).master as Pool;
}
