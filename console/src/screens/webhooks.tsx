import { useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { dateTime } from "../lib/format";
import { CREATE_WEBHOOK, DELETE_WEBHOOK, DELIVERIES, UPDATE_WEBHOOK, WEBHOOKS } from "../lib/ops-more";
import { act, confirmed, CopyButton, ErrorText, Field, Panel } from "../ui/forms";

interface Webhook {
  id: string;
  url: string;
  active: boolean;
  events: string[];
  secretPreview: string;
}
interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  createdAt: string;
}
const EVENTS = ["all", "telemetry_update", "device_online", "device_offline", "state_confirmed", "schedule_executed"];

function Deliveries({ webhookId }: { webhookId: string }) {
  const [{ data, error }] = useQuery<{ webhookDeliveries: Delivery[] }>({ query: DELIVERIES, variables: { webhookId }, requestPolicy: "network-only" });
  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading…</p>;
  if (data.webhookDeliveries.length === 0) return <p>No deliveries yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
          </tr>
        </thead>
        <tbody>
          {data.webhookDeliveries.map((d) => (
            <tr key={d.id}>
              <td>{dateTime(d.createdAt)}</td>
              <td>{d.event}</td>
              <td>{d.status.toLowerCase()}</td>
              <td>{d.attempts}</td>
              <td>{d.lastStatusCode ?? d.lastError ?? "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Webhooks() {
  const [{ data, error }, refetch] = useQuery<{ webhooks: Webhook[] }>({ query: WEBHOOKS });
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>(["all"]);
  const [created, create] = useMutation<{ createWebhook: { secret: string } }>(CREATE_WEBHOOK);
  const [, update] = useMutation(UPDATE_WEBHOOK);
  const [, remove] = useMutation(DELETE_WEBHOOK);
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const again = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
      <h1>Webhooks</h1>
      <Panel title="New webhook">
        <form
          onSubmit={act(async (e) => {
            e.preventDefault();
            const { data: made } = await create({ input: { url, events } });
            if (made) {
              setSecret(made.createWebhook.secret);
              setUrl("");
              again();
            }
          })}
        >
          <Field label="URL" type="url" value={url} onValue={setUrl} required placeholder="https://example.com/hook" />
          <fieldset>
            <legend>Events</legend>
            {EVENTS.map((ev) => (
              <label key={ev} class="check">
                <input
                  type="checkbox"
                  checked={events.includes(ev)}
                  onChange={(e) => setEvents(e.currentTarget.checked ? [...events, ev] : events.filter((x) => x !== ev))}
                />{" "}
                {ev}
              </label>
            ))}
          </fieldset>
          <button type="submit">Create webhook</button>
          <ErrorText error={created.error} />
        </form>
        {secret ? (
          <p role="status">
            Signing secret, shown once: <code data-copy={secret}>{secret}</code> <CopyButton text={secret} />
          </p>
        ) : null}
      </Panel>
      <ErrorText error={error} />
      <ul class="rows">
        {data?.webhooks.map((w) => (
          <li key={w.id}>
            <strong>{w.url}</strong>{" "}
            <small class="muted">
              {w.events.join(", ")} · {w.secretPreview}
            </small>
            <label class="check">
              <input
                type="checkbox"
                checked={w.active}
                onChange={act(async (e) => (await update({ id: w.id, input: { active: e.currentTarget.checked } }), again()))}
              />{" "}
              active
            </label>
            <button type="button" class="link" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
              delivery log
            </button>
            <button type="button" class="link" onClick={act(async () => confirmed(`Delete the webhook to ${w.url}?`) && (await remove({ id: w.id }), again()))}>
              delete
            </button>
            {open === w.id ? <Deliveries webhookId={w.id} /> : null}
          </li>
        ))}
      </ul>
    </>
  );
}
