import "reflect-metadata";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { resolvers } from "../resolvers/index.js";
import { authChecker } from "./context.js";

let built: Promise<GraphQLSchema> | undefined;

/** The schema, built once per process from the type-graphql classes. */
export function appSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: resolvers as unknown as NonEmptyArray<Function>,
    authChecker,
    validate: false, // inputs are validated by the services, with messages that name the field
    // Required by type-graphql for subscriptions, though ours subscribe to the domain event bus directly.
    pubSub: createPubSub(),
  });
  return built;
}

/** What `schema.graphql` must contain: sorted so that diffs show real changes only. */
export async function printedSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await appSchema()))}\n`;
}
