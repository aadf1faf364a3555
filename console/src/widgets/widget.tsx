import { useMemo, useState } from "preact/hooks";
import { useMutation } from "@urql/preact";
import { DELETE_WIDGET, UPDATE_WIDGET } from "../lib/ops";
import type { Device, Widget } from "../lib/types";
import { useTimeZone } from "../lib/time-zone";
import { KeyChart } from "../screens/history";
import { act, confirmed, ErrorText, Field } from "../ui/forms";
import { Display } from "./displays";
import { Led } from "./led";
import { Schedules } from "./schedules";

export type WidgetDevice = Pick<Device, "id" | "name" | "status" | "lastSeenAt" | "connection">;

export interface LayoutActions {
  move(id: string, by: number): void;
  resize(id: string, dw: number, dh: number): void;
}

/** The last hour of the key; each new value the widget receives becomes a point. */
function ChartWidget({ w }: { w: Widget }) {
  const live = useMemo(() => (w.value === null || !w.key ? undefined : { data: { [w.key]: w.value }, timestamp: new Date().toISOString() }), [w.value]);
  const timeZone = useTimeZone();
  return timeZone ? <KeyChart deviceId={w.deviceId!} keyName={w.key!} range="3600" bucket="" live={live} timeZone={timeZone} /> : null;
}

function EditForm({ w, onDone }: { w: Widget; onDone(w?: Widget): void }) {
  const [label, setLabel] = useState(w.label);
  const [key, setKey] = useState(w.key ?? "");
  const [result, update] = useMutation<{ updateWidget: Widget }>(UPDATE_WIDGET);
  return (
    <form
      onSubmit={act(async (e) => {
        e.preventDefault();
        const { data } = await update({ id: w.id, input: { label, ...(w.type === "led" ? {} : { key: key || undefined }) } });
        if (data) onDone(data.updateWidget);
      })}
    >
      <Field label="Label" value={label} onValue={setLabel} required />
      {w.type !== "led" ? <Field label="Key" value={key} onValue={setKey} /> : null}
      <ErrorText error={result.error} />
      <button type="submit">Save</button>{" "}
      <button type="button" class="secondary" onClick={() => onDone()}>
        Cancel
      </button>
    </form>
  );
}

/** One widget in the grid: its reading, and in edit mode the buttons that move, resize, edit and delete it. */
export function WidgetCard(props: {
  w: Widget;
  device: WidgetDevice | undefined;
  editing: boolean;
  layout: LayoutActions;
  onChange(w: Widget): void;
  onDelete(id: string): void;
  drag: { onDragStart(id: string): void; onDrop(id: string): void };
}) {
  const { w, device, editing, layout } = props;
  const [form, setForm] = useState(false);
  const [deleted, remove] = useMutation(DELETE_WIDGET);
  const [schedules, setSchedules] = useState(false);
  return (
    <article
      class={`widget type-${w.type}`}
      style={{ "--w": w.width, "--h": w.height }}
      aria-label={`${w.label} (${w.type})`}
      data-widget={w.id}
      draggable={editing}
      onDragStart={(e) => {
        e.dataTransfer?.setData("text/plain", w.id);
        props.drag.onDragStart(w.id);
      }}
      onDragOver={(e) => editing && e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        props.drag.onDrop(w.id);
      }}
    >
      <header>
        <h3>{w.label}</h3>
        <small class="muted">
          {device?.name ?? ""}
          {w.key ? ` · ${w.key}` : ""}
        </small>
      </header>
      {form ? (
        <EditForm
          w={w}
          onDone={(changed) => {
            setForm(false);
            if (changed) props.onChange(changed);
          }}
        />
      ) : w.type === "led" ? (
        <Led w={w} onChange={props.onChange} />
      ) : w.type === "chart" && w.deviceId && w.key ? (
        <ChartWidget w={w} />
      ) : (
        <Display w={w} device={device} />
      )}
      {w.type === "led" ? (
        <button type="button" class="link" aria-expanded={schedules} onClick={() => setSchedules(!schedules)}>
          Schedules and timers
        </button>
      ) : null}
      {schedules ? <Schedules widgetId={w.id} /> : null}
      {editing ? (
        <div class="widget-tools" role="group" aria-label={`Arrange ${w.label}`}>
          <button type="button" class="secondary" aria-label={`Move ${w.label} earlier`} onClick={() => layout.move(w.id, -1)}>
            ←
          </button>
          <button type="button" class="secondary" aria-label={`Move ${w.label} later`} onClick={() => layout.move(w.id, 1)}>
            →
          </button>
          <button type="button" class="secondary" aria-label={`Make ${w.label} narrower`} onClick={() => layout.resize(w.id, -1, 0)}>
            −W
          </button>
          <button type="button" class="secondary" aria-label={`Make ${w.label} wider`} onClick={() => layout.resize(w.id, 1, 0)}>
            +W
          </button>
          <button type="button" class="secondary" aria-label={`Make ${w.label} shorter`} onClick={() => layout.resize(w.id, 0, -1)}>
            −H
          </button>
          <button type="button" class="secondary" aria-label={`Make ${w.label} taller`} onClick={() => layout.resize(w.id, 0, 1)}>
            +H
          </button>
          <button type="button" class="secondary" onClick={() => setForm(true)}>
            Edit
          </button>
          <button
            type="button"
            class="danger"
            onClick={act(async () => {
              if (!confirmed(`Delete the widget ${w.label}?`)) return;
              const { error } = await remove({ id: w.id });
              if (!error) props.onDelete(w.id);
            })}
          >
            Delete
          </button>
          <ErrorText error={deleted.error} />
        </div>
      ) : null}
    </article>
  );
}
