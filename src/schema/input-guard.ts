import { GraphQLError, Kind, Lexer, Source, TokenKind, visit, type ASTNode, type DocumentNode, type ValueNode } from "graphql";

/**
 * Bounds on the text of a document, checked before `parse`. Validation is quadratic in the number
 * of fields (OverlappingFieldsCanBeMerged): 10,000 repeated fields cost seconds of CPU, so a
 * document is refused on its size and token count, which cost one pass of the lexer and no AST.
 * The app's own operations are far below them (the IDE's introspection query is ~200 tokens).
 */
export const MAX_DOCUMENT_BYTES = 32 * 1024;
export const MAX_TOKENS = 2000;
export const MAX_DIRECTIVES = 50;
/** Variables arrive as JSON (64 KiB at most); deeper nesting than this only serves to exhaust stacks. */
export const MAX_INPUT_DEPTH = 64;
export const MAX_INPUT_VALUES = 20_000;

/** Keys that reach `Object.prototype` (or a class) when a value is copied key by key. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

const refuse = (message: string, nodes?: ASTNode) =>
  new GraphQLError(message, { ...(nodes ? { nodes } : {}), extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });

// PostgreSQL refuses U+0000 in text and jsonb, and a lone surrogate has no UTF-8 form: either
// would fail deep inside a write (an internal error, or a row half written) instead of here.
export const hasNul = (s: string): boolean => s.includes("\u0000");
// `u` mode reads paired surrogates as one code point, so only lone ones are in category Cs
// (String.prototype.isWellFormed is Node 20 but not in the ES2023 lib this project compiles with).
export const hasLoneSurrogate = (s: string): boolean => /\p{Cs}/u.test(s);

/** What is wrong with one string, or undefined. */
function flawOf(s: string): string | undefined {
  if (hasNul(s)) return "contains a NUL character";
  if (hasLoneSurrogate(s)) return "contains a lone surrogate (text must be valid Unicode)";
  return undefined;
}

function keyFlawOf(key: string): string | undefined {
  if (FORBIDDEN_KEYS.has(key)) return `has the key "${key}", which is not allowed`;
  const flaw = flawOf(key);
  return flaw && `has a key that ${flaw}`;
}

const LONE_SURROGATE_ESCAPE = /Invalid Unicode escape sequence: "\\u\{?0*[dD][89a-fA-F][0-9a-fA-F]{2}/;

/** Size, token and directive bounds of a document, before it is parsed; throws the refusal. */
export function checkDocumentText(query: string): void {
  const bytes = Buffer.byteLength(query, "utf8");
  if (bytes > MAX_DOCUMENT_BYTES) throw refuse(`Document is too large: ${bytes} bytes, at most ${MAX_DOCUMENT_BYTES}`);
  const flaw = flawOf(query);
  if (flaw) throw refuse(`Document ${flaw}`);
  const lexer = new Lexer(new Source(query));
  let tokens = 0;
  let directives = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > MAX_TOKENS) throw refuse(`Document has too many tokens: more than ${MAX_TOKENS}`);
      if (token.kind === TokenKind.AT && ++directives > MAX_DIRECTIVES) throw refuse(`Document has too many directives: more than ${MAX_DIRECTIVES}`);
    }
  } catch (error) {
    if (!(error instanceof GraphQLError) || error.extensions.code) throw error;
    // An escaped half pair ("\uD800") is the same bad input as a raw one, not a typo in the syntax.
    const code = LONE_SURROGATE_ESCAPE.test(error.message) ? "BAD_USER_INPUT" : "GRAPHQL_PARSE_FAILED";
    const message = code === "BAD_USER_INPUT" ? "A string of the document contains a lone surrogate (text must be valid Unicode)" : error.message;
    throw new GraphQLError(message, { source: error.source, positions: error.positions, extensions: { code, http: { status: 400 } } });
  }
}

/** A path as clients write it: `input.items[2].name`. */
const step = (path: string, key: string | number) => (typeof key === "number" ? `${path}[${key}]` : `${path}.${key}`);

function checkLiteral(root: ValueNode, label: (path: string) => string, path: string): void {
  const stack: Array<[ValueNode, string]> = [[root, path]];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (node.kind === Kind.STRING) {
      const flaw = flawOf(node.value);
      if (flaw) throw refuse(`${label(at)} ${flaw}`, node);
    } else if (node.kind === Kind.LIST) {
      node.values.forEach((value, i) => stack.push([value, step(at, i)]));
    } else if (node.kind === Kind.OBJECT) {
      for (const field of node.fields) {
        if (FORBIDDEN_KEYS.has(field.name.value)) throw refuse(`${label(at)} has the key "${field.name.value}", which is not allowed`, field);
        stack.push([field.value, step(at, field.name.value)]);
      }
    }
  }
}

function checkVariables(variables: Record<string, unknown>): void {
  const stack: Array<[unknown, string, number]> = Object.entries(variables).map(([name, value]) => [value, name, 1]);
  let count = 0;
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (++count > MAX_INPUT_VALUES) throw refuse(`Variables hold too many values: more than ${MAX_INPUT_VALUES}`);
    if (typeof value === "string") {
      const flaw = flawOf(value);
      if (flaw) throw refuse(`variable "${path}" ${flaw}`);
    } else if (typeof value === "object" && value !== null) {
      if (depth > MAX_INPUT_DEPTH) throw refuse(`variable "${path}" is nested deeper than ${MAX_INPUT_DEPTH} levels`);
      if (Array.isArray(value)) {
        value.forEach((item, i) => stack.push([item, step(path, i), depth + 1]));
        continue;
      }
      for (const key of Object.keys(value)) {
        const flaw = keyFlawOf(key);
        if (flaw) throw refuse(`variable "${path}" ${flaw}`);
        stack.push([(value as Record<string, unknown>)[key], step(path, key), depth + 1]);
      }
    }
  }
}

// Apollo hands out the same parsed document for each request of the same text (its document store).
const checkedLiterals = new WeakSet<DocumentNode>();

function checkLiterals(document: DocumentNode): void {
  visit(document, {
    Argument(node) {
      checkLiteral(node.value, (path) => `argument "${path}"`, node.name.value);
      return false; // its value holds no further arguments
    },
    VariableDefinition(node) {
      if (node.defaultValue) checkLiteral(node.defaultValue, (path) => `default value of "$${path}"`, node.variable.name.value);
    },
  });
  checkedLiterals.add(document);
}

/**
 * Every string and object key a request carries, in its document's literals (arguments, JSON
 * literals, default values) and in its variables: no NUL, no lone surrogate, no key that reaches a
 * prototype. Throws BAD_USER_INPUT naming where; run after parsing, before execution.
 */
export function checkInputs(document: DocumentNode, variables: Record<string, unknown> | null | undefined): void {
  if (!checkedLiterals.has(document)) checkLiterals(document);
  if (variables) checkVariables(variables);
}
