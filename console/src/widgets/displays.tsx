import { ago, numberOf, show } from "../lib/format";
import type { Json, Widget } from "../lib/types";
import type { WidgetDevice } from "./widget";

const num = (v: Json, fallback: number) => numberOf(v) ?? fallback;
const unitOf = (w: Widget, fallback = "") => (typeof w.config["unit"] === "string" ? w.config["unit"] : fallback);
const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));

/** A value between the widget's min and max (config.min/config.max, default 0..100), as a meter. */
function Meter({ w, min, max, kind, unit }: { w: Widget; min: number; max: number; kind: string; unit: string }) {
  const value = numberOf(w.value);
  const share = value === null ? 0 : (clamp(value, min, max) - min) / (max - min || 1);
  const text = value === null ? "–" : `${show(value)}${unit ? ` ${unit}` : ""}`;
  return (
    <div
      class={`meter ${kind}`}
      role="meter"
      aria-label={w.label}
      aria-valuemin={min}
      aria-valuemax={max}
      aria-valuenow={value ?? undefined}
      aria-valuetext={text}
      style={{ "--share": share.toFixed(3) }}
    >
      {kind === "gauge" ? (
        <svg viewBox="0 0 100 60" aria-hidden="true">
          <path d="M10 55 A40 40 0 0 1 90 55" class="track" pathLength={100} />
          <path d="M10 55 A40 40 0 0 1 90 55" class="fill" pathLength={100} stroke-dasharray={`${share * 100} 100`} />
        </svg>
      ) : (
        <div class="bar" aria-hidden="true">
          <div class="bar-fill" />
        </div>
      )}
      <output class="reading">{text}</output>
    </div>
  );
}

export function Display({ w, device }: { w: Widget; device: WidgetDevice | undefined }) {
  if (w.type === "status" || w.type === "connectivity") {
    if (!device) return <p class="muted">No device bound.</p>;
    const online = device.status === "ONLINE";
    return (
      <div class="reading-block">
        <span class={`status ${online ? "online" : "offline"}`}>{online ? "online" : "offline"}</span>
        {w.type === "connectivity" ? (
          <small class="muted">
            {device.connection.transport} · {online ? `since ${ago(device.connection.since)}` : `last seen ${ago(device.lastSeenAt)}`}
          </small>
        ) : null}
      </div>
    );
  }
  if (!w.deviceId || !w.key) return <p class="muted">Bind a device and key in Edit.</p>;
  const min = num(w.config["min"] ?? null, 0);
  switch (w.type) {
    case "gauge":
      return <Meter w={w} min={min} max={num(w.config["max"] ?? null, 100)} kind="gauge" unit={unitOf(w)} />;
    case "thermometer":
      return <Meter w={w} min={num(w.config["min"] ?? null, -20)} max={num(w.config["max"] ?? null, 50)} kind="thermometer" unit={unitOf(w, "°C")} />;
    case "tank":
      return <Meter w={w} min={min} max={num(w.config["max"] ?? null, 100)} kind="tank" unit={unitOf(w, "%")} />;
    case "battery":
      return <Meter w={w} min={min} max={num(w.config["max"] ?? null, 100)} kind="battery" unit={unitOf(w, "%")} />;
    case "indicator": {
      const on = numberOf(w.value) ? true : w.value === "on" || w.value === true;
      return (
        <div class="reading-block">
          <span class={`lamp ${on ? "on" : ""}`} aria-hidden="true" />
          <output>{on ? "on" : "off"}</output>
        </div>
      );
    }
    case "digital":
      return <output class="digital">{show(w.value)}</output>;
    case "energy":
      return (
        <output class="reading">
          {show(w.value)} {unitOf(w, "kWh")}
        </output>
      );
    default:
      return (
        <output class="reading">
          {show(w.value)}
          {unitOf(w) ? ` ${unitOf(w)}` : ""}
        </output>
      );
  }
}
