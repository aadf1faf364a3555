import { useMemo, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { CREATE_DASHBOARD, DASHBOARDS } from "../lib/ops";
import { navigate, onLinkClick } from "../lib/router";
import type { Dashboard } from "../lib/types";
import { act, ErrorText, Field, Panel } from "../ui/forms";

export function Dashboards() {
  const context = useMemo(() => ({ additionalTypenames: ["Dashboard"] }), []);
  const [{ data, error }] = useQuery<{ dashboards: Dashboard[] }>({ query: DASHBOARDS, context });
  const [name, setName] = useState("");
  const [created, create] = useMutation<{ createDashboard: { id: string } }>(CREATE_DASHBOARD);
  return (
    <>
      <h1>Dashboards</h1>
      <Panel title="New dashboard">
        <form
          class="inline"
          onSubmit={act(async (e) => {
            e.preventDefault();
            const { data: made } = await create({ input: { name } });
            if (made) navigate(`/console/dashboards/${made.createDashboard.id}`);
          })}
        >
          <Field label="Dashboard name" value={name} onValue={setName} required maxLength={100} />
          <button type="submit" disabled={created.fetching}>
            Create dashboard
          </button>
          <ErrorText error={created.error} />
        </form>
      </Panel>
      <ErrorText error={error} />
      {data?.dashboards.length === 0 ? <p>No dashboards yet.</p> : null}
      <ul class="cards">
        {data?.dashboards.map((d) => (
          <li key={d.id}>
            <a href={`/console/dashboards/${d.id}`} onClick={onLinkClick}>
              <strong>{d.name}</strong>
              <span class="muted">
                {d.widgetCount} widget{d.widgetCount === 1 ? "" : "s"}
              </span>
              {d.description ? <span>{d.description}</span> : null}
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}
