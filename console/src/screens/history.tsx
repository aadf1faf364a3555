import { useEffect, useMemo, useState } from "preact/hooks";
import { useQuery } from "@urql/preact";
import { numberOf } from "../lib/format";
import { HISTORY } from "../lib/ops";
import type { JsonObject, TelemetryPoint } from "../lib/types";
import { Chart, type Series } from "../ui/chart";
import { Select } from "../ui/forms";

export const RANGES: Array<[string, string]> = [
  ["900", "15 minutes"],
  ["3600", "1 hour"],
  ["21600", "6 hours"],
  ["86400", "24 hours"],
  ["604800", "7 days"],
  ["2592000", "30 days"],
];
export const BUCKETS: Array<[string, string]> = [
  ["", "raw points"],
  ["30s", "30 s"],
  ["1m", "1 min"],
  ["15m", "15 min"],
  ["1h", "1 hour"],
  ["1d", "1 day"],
];

export function RangePicker({ range, bucket, onRange, onBucket }: { range: string; bucket: string; onRange(v: string): void; onBucket(v: string): void }) {
  return (
    <div class="inline">
      <Select label="Range" value={range} onValue={onRange} options={RANGES} />
      <Select label="Bucket (average)" value={bucket} onValue={onBucket} options={BUCKETS} />
    </div>
  );
}

const seriesOf = (points: TelemetryPoint[]): Series => ({
  xs: points.map((p) => Date.parse(p.ts) / 1000),
  ys: points.map((p) => numberOf(p.value)),
});

/**
 * One key's history (telemetryHistory) over the chosen range. Raw points grow with each live report;
 * a bucketed chart is asked again when a report arrives (at most every 5 s).
 */
export function KeyChart({
  deviceId,
  keyName,
  range,
  bucket,
  live,
  timeZone,
}: {
  deviceId: string;
  keyName: string;
  range: string;
  bucket: string;
  live?: { data: JsonObject; timestamp: string };
  /** Of the chart, and of the server's day and week buckets. */
  timeZone: string;
}) {
  const [from, setFrom] = useState(() => new Date(Date.now() - Number(range) * 1000).toISOString());
  useEffect(() => setFrom(new Date(Date.now() - Number(range) * 1000).toISOString()), [range, bucket]);
  const [{ data }, refetch] = useQuery<{ telemetryHistory: TelemetryPoint[] }>({
    query: HISTORY,
    variables: { deviceId, key: keyName, from, bucket: bucket || undefined, first: 2000, timeZone },
    requestPolicy: "network-only",
  });
  const [extra, setExtra] = useState<Series>({ xs: [], ys: [] });
  useEffect(() => setExtra({ xs: [], ys: [] }), [data]);
  const [lastRefetch, setLastRefetch] = useState(0);
  useEffect(() => {
    if (!live || !(keyName in live.data)) return;
    if (!bucket) {
      const x = Date.parse(live.timestamp) / 1000;
      setExtra((s) => ({ xs: [...s.xs, x], ys: [...s.ys, numberOf(live.data[keyName])] }));
    } else if (Date.now() - lastRefetch > 5000) {
      setLastRefetch(Date.now());
      refetch({ requestPolicy: "network-only" });
    }
  }, [live]);
  const series = useMemo(() => {
    const base = seriesOf(data?.telemetryHistory ?? []);
    const last = base.xs[base.xs.length - 1] ?? 0;
    const keep = extra.xs.map((x, i) => [x, extra.ys[i]!] as const).filter(([x]) => x > last);
    return { xs: [...base.xs, ...keep.map(([x]) => x)], ys: [...base.ys, ...keep.map(([, y]) => y)] };
  }, [data, extra]);
  return <Chart data={series} label={keyName} timeZone={timeZone} />;
}
