import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery, useSubscription } from "@urql/preact";
import { useLiveDevices } from "../lib/live";
import { DASHBOARD_ONE, DELETE_DASHBOARD, LAYOUT, UPDATE_DASHBOARD, WIDGET_UPDATED } from "../lib/ops";
import { navigate } from "../lib/router";
import type { Widget } from "../lib/types";
import { act, confirmed, ErrorText, Field, Panel } from "../ui/forms";
import { WidgetCard, type LayoutActions, type WidgetDevice } from "../widgets/widget";
import { AddWidget } from "./add-widget";

interface Data {
  dashboard: { id: string; name: string; description: string | null; widgets: Widget[] } | null;
  devices: WidgetDevice[];
}
const clamp = (x: number) => Math.min(12, Math.max(1, x));

function Header({ dashboard, editing, setEditing }: { dashboard: NonNullable<Data["dashboard"]>; editing: boolean; setEditing(v: boolean): void }) {
  const [name, setName] = useState(dashboard.name);
  const [renaming, setRenaming] = useState(false);
  const [renamed, rename] = useMutation(UPDATE_DASHBOARD);
  const [deleted, remove] = useMutation(DELETE_DASHBOARD);
  return (
    <div class="dash-head">
      {renaming ? (
        <form
          class="inline"
          onSubmit={act(async (e) => {
            e.preventDefault();
            const { error } = await rename({ id: dashboard.id, input: { name } });
            if (!error) setRenaming(false);
          })}
        >
          <Field label="Dashboard name" value={name} onValue={setName} required />
          <button type="submit">Save name</button>
        </form>
      ) : (
        <h1>{dashboard.name}</h1>
      )}
      <div class="inline">
        <button type="button" aria-pressed={editing} onClick={() => setEditing(!editing)}>
          {editing ? "Done editing" : "Edit dashboard"}
        </button>
        {editing ? (
          <>
            <button type="button" class="secondary" onClick={() => setRenaming(true)}>
              Rename
            </button>
            <button
              type="button"
              class="danger"
              onClick={act(async () => {
                if (!confirmed(`Delete the dashboard ${dashboard.name} with its widgets?`)) return;
                const { error } = await remove({ id: dashboard.id });
                if (!error) navigate("/console/dashboards");
              })}
            >
              Delete dashboard
            </button>
          </>
        ) : null}
      </div>
      <ErrorText error={renamed.error ?? deleted.error} />
    </div>
  );
}

/** A dashboard's widgets, live: widgetUpdated carries every value, pending flag and layout change. */
export function DashboardPage({ id }: { id: string }) {
  const [{ data, error }] = useQuery<Data>({ query: DASHBOARD_ONE, variables: { id } });
  const [widgets, setWidgets] = useState<Widget[]>([]);
  const [editing, setEditing] = useState(false);
  const [dragged, setDragged] = useState<string | null>(null);
  const [layoutResult, saveLayout] = useMutation(LAYOUT);
  const devices = useLiveDevices(data?.devices);
  useEffect(() => setWidgets(data?.dashboard?.widgets ?? []), [data]);

  const [event] = useSubscription<{ widgetUpdated: { deleted: boolean; widget: Widget } }>({ query: WIDGET_UPDATED, variables: { dashboardId: id } });
  useEffect(() => {
    const e = event.data?.widgetUpdated;
    if (!e) return;
    setWidgets((all) => {
      const rest = all.filter((w) => w.id !== e.widget.id);
      if (e.deleted) return rest;
      return [...rest, e.widget].sort((a, b) => a.order - b.order);
    });
  }, [event.data]);

  const replace = (w: Widget) => setWidgets((all) => all.map((x) => (x.id === w.id ? w : x)));
  const commit = (next: Widget[]) => {
    const ordered = next.map((w, order) => ({ ...w, order }));
    setWidgets(ordered);
    void saveLayout({ id, layout: ordered.map((w) => ({ widgetId: w.id, width: w.width, height: w.height })) });
  };
  const layout: LayoutActions = {
    move: (wid, by) => {
      const i = widgets.findIndex((w) => w.id === wid);
      const j = i + by;
      if (i < 0 || j < 0 || j >= widgets.length) return;
      const next = [...widgets];
      [next[i], next[j]] = [next[j]!, next[i]!];
      commit(next);
    },
    resize: (wid, dw, dh) => commit(widgets.map((w) => (w.id === wid ? { ...w, width: clamp(w.width + dw), height: clamp(w.height + dh) } : w))),
  };
  const drag = {
    onDragStart: setDragged,
    onDrop: (target: string) => {
      if (!dragged || dragged === target) return;
      const moving = widgets.find((w) => w.id === dragged)!;
      const rest = widgets.filter((w) => w.id !== dragged);
      rest.splice(
        rest.findIndex((w) => w.id === target),
        0,
        moving,
      );
      setDragged(null);
      commit(rest);
    },
  };

  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading…</p>;
  if (!data.dashboard) return <p>No such dashboard.</p>;
  const byId = new Map(devices.map((d) => [d.id, d]));
  return (
    <>
      <Header dashboard={data.dashboard} editing={editing} setEditing={setEditing} />
      {editing ? (
        <Panel title="Add a widget">
          <AddWidget dashboardId={id} devices={devices} onAdded={(w) => setWidgets((all) => [...all.filter((x) => x.id !== w.id), w])} />
          <p class="hint">Drag widgets to reorder them, or use the arrow and size buttons on each.</p>
        </Panel>
      ) : null}
      <ErrorText error={layoutResult.error} />
      {widgets.length === 0 ? <p>No widgets yet: choose Edit dashboard to add some.</p> : null}
      <div class="grid">
        {widgets.map((w) => (
          <WidgetCard
            key={w.id}
            w={w}
            device={w.deviceId ? byId.get(w.deviceId) : undefined}
            editing={editing}
            layout={layout}
            onChange={replace}
            onDelete={(wid) => setWidgets((all) => all.filter((x) => x.id !== wid))}
            drag={drag}
          />
        ))}
      </div>
    </>
  );
}
