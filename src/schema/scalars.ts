import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { JSONObjectResolver, JSONResolver } from "graphql-scalars";

export const JSONScalar = JSONResolver;
export const JSONObjectScalar = JSONObjectResolver;

// A zone is required: a time without one would have to be guessed, and automation must not guess.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * JavaScript's Date rolls impossible fields over (2027-02-30 becomes March 2): the written date and
 * time must exist as written, in its own zone (leap years included; a leap second is not accepted).
 */
function isCalendarTime(value: string): boolean {
  const [, y, mo, d, h, mi, sec] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value)!.map(Number);
  const days = new Date(Date.UTC(y!, mo!, 0)).getUTCDate(); // day 0 of the next month: the month's last day
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= days && h! <= 23 && mi! <= 59 && (Number.isNaN(sec) || sec! <= 59);
}

function parse(value: unknown): Date {
  if (typeof value !== "string" || !ISO_WITH_ZONE.test(value)) {
    throw new GraphQLError(`DateTime must be an ISO 8601 time with a zone, such as 2026-02-12T16:00:00.000Z or 2026-02-12T17:00:00+01:00`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !isCalendarTime(value)) {
    throw new GraphQLError(`DateTime "${value}" is not a real time`, { extensions: { code: "BAD_USER_INPUT" } });
  }
  return date;
}

/** ISO 8601 UTC with milliseconds on output; any ISO 8601 time with an explicit zone on input. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An instant, ISO 8601. Output is UTC with milliseconds (2026-02-12T16:00:00.000Z); input must carry Z or an offset.",
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string | number);
    if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime cannot represent an invalid date");
    return date.toISOString();
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError("DateTime must be a string", { extensions: { code: "BAD_USER_INPUT" } });
    return parse(ast.value);
  },
});
