import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  /** Epoch seconds. */
  xs: number[];
  ys: Array<number | null>;
}

/**
 * A uPlot line chart that follows its container's width, its times drawn in `timeZone` (the browser's
 * when absent). Its styles come from the stylesheet and CSSOM only, which the strict CSP allows.
 */
export function Chart({ data, label, timeZone, height = 180 }: { data: Series; label: string; timeZone?: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const axis = { stroke: dark ? "#c9d1d9" : "#333", grid: { stroke: dark ? "#30363d" : "#e5e5e5" }, ticks: { stroke: dark ? "#30363d" : "#ccc" } };
    plot.current = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        ...(timeZone ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), timeZone) } : {}),
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        axes: [axis, axis],
        series: [{}, { label, stroke: dark ? "#58a6ff" : "#0b63ce", width: 2, spanGaps: true, points: { show: false } }],
      },
      [data.xs, data.ys],
      el,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [label, height, timeZone]);

  useEffect(() => plot.current?.setData([data.xs, data.ys]), [data]);

  return (
    <figure class="chart" aria-label={`Chart of ${label}`}>
      <div ref={box} role="img" aria-label={`${label}: ${data.ys.length} points`} />
      {data.ys.length === 0 ? (
        <figcaption>No data in this range yet.</figcaption>
      ) : timeZone ? (
        <figcaption class="muted">Times in {timeZone}</figcaption>
      ) : null}
    </figure>
  );
}
