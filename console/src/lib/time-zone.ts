import { useQuery } from "@urql/preact";
import { TIME_ZONE } from "./ops-more";

/** The browser's own IANA zone. */
export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/**
 * The zone charts, buckets and exports use: the user's (`me { timeZone }`, set on the profile screen),
 * else the browser's. It is passed to the server too, so a day bucket starts at the midnight the chart
 * shows. Undefined while it loads, so a chart asks for its history once.
 */
export function useTimeZone(): string | undefined {
  const [{ data, error }] = useQuery<{ me: { id: string; timeZone: string | null } }>({ query: TIME_ZONE });
  if (error) return browserZone();
  return data ? (data.me.timeZone ?? browserZone()) : undefined;
}
