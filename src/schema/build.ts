import "reflect-metadata";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { authChecker } from "./context.js";

/** A schema from type-graphql resolver classes (the app passes every module's). */
export function buildAppSchema(resolvers: readonly Function[]): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: resolvers as unknown as NonEmptyArray<Function>,
    authChecker,
    validate: false, // inputs are validated by the services, with messages that name the field
    // Required by type-graphql for subscriptions, though ours subscribe to the domain event bus directly.
    pubSub: createPubSub(),
  });
}

/** Sorted so that diffs of `schema.graphql` show real changes only. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
