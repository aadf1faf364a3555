import { useState } from "preact/hooks";
import { useMutation } from "@urql/preact";
import { CREATE_WIDGET } from "../lib/ops";
import type { Widget } from "../lib/types";
import { ErrorText, Field, Select } from "../ui/forms";
import type { WidgetDevice } from "../widgets/widget";

export const WIDGET_TYPES = ["card", "gauge", "indicator", "chart", "digital", "thermometer", "tank", "battery", "status", "energy", "led", "connectivity"];
const NEEDS_KEY = new Set(["card", "gauge", "indicator", "chart", "digital", "thermometer", "tank", "battery", "energy"]);

/** A new widget bound to one of the user's devices (and a reported key, or a pin for the LED). */
export function AddWidget({ dashboardId, devices, onAdded }: { dashboardId: string; devices: WidgetDevice[]; onAdded(w: Widget): void }) {
  const [type, setType] = useState("gauge");
  const [label, setLabel] = useState("");
  const [deviceId, setDeviceId] = useState("");
  const [key, setKey] = useState("");
  const [pin, setPin] = useState("");
  const [min, setMin] = useState("0");
  const [max, setMax] = useState("100");
  const [result, create] = useMutation<{ createWidget: Widget }>(CREATE_WIDGET);
  const device = deviceId || devices[0]?.id || "";
  const submit = async (e: Event) => {
    e.preventDefault();
    const config = type === "gauge" ? { min: Number(min), max: Number(max) } : undefined;
    const input = {
      dashboardId,
      type,
      label: label || type,
      deviceId: device || undefined,
      ...(NEEDS_KEY.has(type) ? { key } : {}),
      ...(type === "led" && pin ? { virtualPin: pin } : {}),
      ...(config ? { config } : {}),
    };
    const { data } = await create({ input });
    if (data) {
      onAdded(data.createWidget);
      setLabel("");
    }
  };
  if (devices.length === 0) return <p>Add a device first: widgets show a device's values.</p>;
  return (
    <form class="inline" onSubmit={(e) => void submit(e)} aria-label="Add a widget">
      <Select label="Type" value={type} onValue={setType} options={WIDGET_TYPES.map((t) => [t, t])} />
      <Field label="Label" value={label} onValue={setLabel} maxLength={100} />
      <Select label="Device" value={device} onValue={setDeviceId} options={devices.map((d) => [d.id, d.name])} />
      {NEEDS_KEY.has(type) ? <Field label="Key" value={key} onValue={setKey} required placeholder="temperature" /> : null}
      {type === "led" ? <Field label="Pin (default: lowest free)" value={pin} onValue={setPin} placeholder="v0" /> : null}
      {type === "gauge" ? (
        <>
          <Field label="Min" type="number" value={min} onValue={setMin} />
          <Field label="Max" type="number" value={max} onValue={setMax} />
        </>
      ) : null}
      <button type="submit" disabled={result.fetching}>
        Add widget
      </button>
      <ErrorText error={result.error} />
    </form>
  );
}
