import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type SelectionNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";

export const MAX_DEPTH = 10;
export const MAX_ALIASES = 20;
export const MAX_COST = 5000;

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });

/**
 * An operation that only asks for the schema (`__schema`, `__type`): the IDE's introspection query
 * is deep and wide by nature. It is exempt from depth and cost limits; in production, introspection
 * itself is disabled, so the exemption opens nothing there.
 */
export function isIntrospection(selections: readonly SelectionNode[]): boolean {
  return selections.length > 0 && selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith("__"));
}

/** Deeply nested queries are refused before they run (fragments are followed). */
export const depthLimit: ValidationRule = (context: ValidationContext): ASTVisitor => {
  const fragments = Object.fromEntries(context.getDocument().definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const depthOf = (selections: readonly SelectionNode[], depth: number, seen: Set<string>): number => {
    let max = depth;
    for (const node of selections) {
      if (node.kind === Kind.FIELD) {
        if (node.selectionSet) max = Math.max(max, depthOf(node.selectionSet.selections, depth + 1, seen));
      } else if (node.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, depthOf(node.selectionSet.selections, depth, seen));
      } else {
        const name = node.name.value;
        const fragment = fragments[name];
        if (fragment && !seen.has(name)) max = Math.max(max, depthOf(fragment.selectionSet.selections, depth, new Set([...seen, name])));
      }
    }
    return max;
  };
  return {
    OperationDefinition(node) {
      if (isIntrospection(node.selectionSet.selections)) return;
      const depth = depthOf(node.selectionSet.selections, 1, new Set());
      if (depth > MAX_DEPTH) context.reportError(refuse(`Query is too deep: ${depth} levels, at most ${MAX_DEPTH}`));
    },
  };
};

/** Many aliases of one field multiply its cost without showing it in the text. */
export const aliasLimit: ValidationRule = (context: ValidationContext): ASTVisitor => {
  let aliases = 0;
  return {
    Field(node) {
      if (node.alias && ++aliases === MAX_ALIASES + 1) context.reportError(refuse(`Too many aliases: at most ${MAX_ALIASES} per request`));
    },
  };
};

/** Cost: one per field, lists multiplied by their `first` argument (or 10 when unbounded). */
const ESTIMATORS = [
  fieldExtensionsEstimator(),
  ({ args, childComplexity, field }: { args: Record<string, unknown>; childComplexity: number; field: { type: unknown } }) => {
    if (!String(field.type).startsWith("[")) return undefined;
    const first = typeof args.first === "number" ? args.first : 10;
    return first * Math.max(1, childComplexity);
  },
  simpleEstimator({ defaultComplexity: 1 }),
];

export function checkCost(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown>, operationName?: string): void {
  const operations = query.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const chosen = operations.find((d) => !operationName || d.name?.value === operationName);
  if (chosen && isIntrospection(chosen.selectionSet.selections)) return;
  let cost: number;
  try {
    cost = getComplexity({ schema, query, variables, ...(operationName ? { operationName } : {}), estimators: ESTIMATORS });
  } catch {
    // Variables that do not coerce: execution refuses them with a precise BAD_USER_INPUT anyway.
    return;
  }
  if (cost > MAX_COST) throw refuse(`Query is too expensive: cost ${cost}, at most ${MAX_COST}`);
}
