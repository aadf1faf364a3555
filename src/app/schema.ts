import type { GraphQLSchema } from "graphql";
import { buildAppSchema, printSchemaFile } from "../schema/build.js";
import { resolvers } from "./modules.js";

let built: Promise<GraphQLSchema> | undefined;

/** The schema of every module's resolvers, built once per process. */
export function appSchema(): Promise<GraphQLSchema> {
  built ??= buildAppSchema(resolvers);
  return built;
}

/** What `schema.graphql` must contain. */
export async function printedSchema(): Promise<string> {
  return printSchemaFile(await appSchema());
}
