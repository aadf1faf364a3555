import { badInput } from "./errors.js";

const formats = new Map<string, Intl.DateTimeFormat>();

/** An IANA time zone name (Europe/Berlin, UTC), as given; BAD_USER_INPUT when it names none. */
export function checkTimeZone(name: string): string {
  if (formats.has(name)) return name;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", { timeZone: name, timeZoneName: "longOffset" });
  } catch {
    throw badInput(`timeZone ${JSON.stringify(name.slice(0, 64))} is not an IANA time zone name such as Europe/Berlin or UTC`);
  }
  if (formats.size > 1000) formats.clear();
  formats.set(name, format);
  return name;
}

/** The zone's offset from UTC at `at`, in seconds (Europe/Berlin in July: 7200). */
export function offsetSeconds(zone: string, at: number): number {
  const part =
    formats
      .get(checkTimeZone(zone))!
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const match = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(part);
  if (!match) return 0; // "GMT": UTC itself
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
  return match[1] === "-" ? -seconds : seconds;
}

const WEEK_MS = 7 * 86_400_000;

/**
 * Whether every offset the zone has between `from` and `to` is a whole multiple of `seconds`, so
 * that its local midnights fall on the edges of rollup buckets that long (an hour in most zones,
 * 5 minutes in India or Nepal). Offsets change at most a few times a year and each lasts weeks at
 * least (Morocco's Ramadan hour is the shortest), so a sample a week finds every one.
 */
export function offsetsAlignedTo(zone: string, from: number, to: number, seconds: number): boolean {
  if (zone === "UTC" || zone === "Etc/UTC") return true;
  for (let at = from; at < to + WEEK_MS; at += WEEK_MS) {
    if (offsetSeconds(zone, Math.min(at, to)) % seconds !== 0) return false;
  }
  return true;
}
