/**
 * Checks for text that comes from clients and ends up in PostgreSQL. PostgreSQL text cannot hold
 * NUL at all, and jsonb refuses the escape \u0000 and any lone surrogate; such a value fails the
 * whole statement it travels in, so it is refused at the edge, where the client can be told why.
 */

// ES2023's lib does not declare it yet; Node 20 has it.
type WellFormed = string & { isWellFormed(): boolean };

/** Why `value` cannot be stored as text or inside jsonb, naming it as `name`; undefined when it can. */
export function checkText(value: string, name: string): string | undefined {
  if (value.includes("\u0000")) return `${name} contains a NUL character (\\u0000), which cannot be stored`;
  if (!(value as WellFormed).isWellFormed()) return `${name} contains a lone surrogate (not valid Unicode), which cannot be stored`;
  return undefined;
}

const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Keys that would reach an object's prototype when code copies values key by key
 * (`target[key] = value`): `__proto__` replaces the prototype instead of adding a property.
 */
export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

/** The reserved keys as a message lists them. */
export const PROTOTYPE_KEYS_TEXT = "__proto__, constructor and prototype";
