import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";
import { checkDocumentText, checkInputs } from "./input-guard.js";

export const MAX_DEPTH = 10;
export const MAX_ALIASES = 20;
export const MAX_COST = 5000;

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });

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
  const fragments = Object.fromEntries(
    context
      .getDocument()
      .definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
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

/** The validation rules of graphql-ws and graphql-sse: Apollo's own, which HTTP gets, and ours. */
export function validationRulesFor(production: boolean): ValidationRule[] {
  return [...specifiedRules, depthLimit, aliasLimit, ...(production ? [NoSchemaIntrospectionCustomRule] : [])];
}

/** The error with `code`, unless it has one (the depth and alias rules say BAD_USER_INPUT, as over HTTP). */
function coded(error: GraphQLError, code: string, message = error.message): GraphQLError {
  const { nodes, source, positions, path, originalError } = error;
  return new GraphQLError(message, { nodes, source, positions, path, originalError, extensions: { code: error.extensions.code ?? code } });
}

export interface PreparedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variableValues: Record<string, unknown>;
  operationName: string | null;
}

/**
 * What Apollo and its plugins do to an HTTP request, for the socket and stream transports, whose
 * libraries would parse and validate without our limits and leave errors without a code (which
 * formatError reports as INTERNAL_SERVER_ERROR): the text bounds, parse, validation, the operation,
 * the inputs, the cost and the variables. Errors carry the codes HTTP gives.
 */
export function prepareOperation(
  schema: GraphQLSchema,
  request: { query?: unknown; variables?: unknown; operationName?: unknown },
  production: boolean,
): PreparedOperation | GraphQLError[] {
  const { query } = request;
  if (typeof query !== "string" || query === "") return [new GraphQLError("The request has no query", { extensions: { code: "BAD_REQUEST" } })];
  const variableValues = (request.variables ?? {}) as Record<string, unknown>;
  const operationName = typeof request.operationName === "string" ? request.operationName : null;
  try {
    checkDocumentText(query);
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return [coded(error as GraphQLError, "GRAPHQL_PARSE_FAILED")];
    }
    // As Apollo's hideSchemaDetailsFromClientErrors: no "Did you mean" hints at the schema in production.
    const hide = (message: string) => (production ? message.replace(/ ?Did you mean(.+?)\?$/, "") : message);
    const invalid = validate(schema, document, validationRulesFor(production));
    if (invalid.length > 0) return invalid.map((e) => coded(e, "GRAPHQL_VALIDATION_FAILED", hide(e.message)));
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      const message = operationName ? `Unknown operation named "${operationName}"` : "Must provide operation name if query contains multiple operations";
      return [new GraphQLError(message, { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })];
    }
    checkInputs(document, variableValues);
    checkCost(schema, document, variableValues, operationName ?? undefined);
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variableValues);
    if (coerced.errors) return coerced.errors.map((e) => coded(e, "BAD_USER_INPUT"));
    return { document, operation, variableValues, operationName };
  } catch (error) {
    // Refusals of the guards carry their code; getVariableValues throws without one past 50 errors.
    if (error instanceof GraphQLError) return [coded(error, "BAD_USER_INPUT")];
    throw error;
  }
}
