import { useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { dateTime, show } from "../lib/format";
import { CREATE_RULE, DELETE_RULE, RULES, UPDATE_RULE } from "../lib/ops-more";
import type { Json } from "../lib/types";
import { act, confirmed, ErrorText, Field, Panel, Select } from "../ui/forms";

interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  key: string;
  op: string;
  value: Json;
  forSeconds: number;
  active: boolean;
  lastFiredAt: string | null;
  suspendedReason: string | null;
  device: { id: string; name: string };
  action: { type: string; key: string | null; value: Json; message: string | null };
}
const OPS: Array<[string, string]> = [
  ["GT", ">"],
  ["GTE", "≥"],
  ["LT", "<"],
  ["LTE", "≤"],
  ["EQ", "="],
  ["NEQ", "≠"],
  ["CHANGED", "changes"],
];
const parse = (text: string): Json => {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
};

function NewRule({ devices, onMade }: { devices: Array<{ id: string; name: string }>; onMade(): void }) {
  const [f, setF] = useState({ name: "", deviceId: "", key: "temperature", op: "GT", value: "30", action: "NOTIFY", setKey: "v0", setValue: "1", message: "" });
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v });
  const [result, create] = useMutation(CREATE_RULE);
  const deviceId = f.deviceId || devices[0]?.id || "";
  const submit = async (e: Event) => {
    e.preventDefault();
    const action =
      f.action === "SET_STATE" ? { type: "SET_STATE", deviceId, key: f.setKey, value: parse(f.setValue) } : { type: "NOTIFY", message: f.message || undefined };
    const { error } = await create({
      input: { name: f.name, deviceId, key: f.key, op: f.op, ...(f.op === "CHANGED" ? {} : { value: parse(f.value) }), action },
    });
    if (!error) onMade();
  };
  if (devices.length === 0) return <p>Add a device first.</p>;
  return (
    <form class="inline" onSubmit={(e) => void submit(e)} aria-label="New rule">
      <Field label="Name" value={f.name} onValue={set("name")} required />
      <Select label="When device" value={deviceId} onValue={set("deviceId")} options={devices.map((d) => [d.id, d.name])} />
      <Field label="reports key" value={f.key} onValue={set("key")} required />
      <Select label="Condition" value={f.op} onValue={set("op")} options={OPS} />
      {f.op !== "CHANGED" ? <Field label="Value" value={f.value} onValue={set("value")} /> : null}
      <Select
        label="Then"
        value={f.action}
        onValue={set("action")}
        options={[
          ["NOTIFY", "notify me"],
          ["SET_STATE", "set a key of the device"],
        ]}
      />
      {f.action === "SET_STATE" ? (
        <>
          <Field label="Key to set" value={f.setKey} onValue={set("setKey")} />
          <Field label="to value" value={f.setValue} onValue={set("setValue")} />
        </>
      ) : (
        <Field label="Message (optional)" value={f.message} onValue={set("message")} />
      )}
      <button type="submit">Create rule</button>
      <ErrorText error={result.error} />
    </form>
  );
}

export function Rules() {
  const [{ data, error }, refetch] = useQuery<{ rules: Rule[]; devices: Array<{ id: string; name: string }> }>({ query: RULES });
  const [, update] = useMutation(UPDATE_RULE);
  const [, remove] = useMutation(DELETE_RULE);
  const again = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
      <h1>Rules</h1>
      <Panel title="New rule">
        <NewRule devices={data?.devices ?? []} onMade={again} />
      </Panel>
      <ErrorText error={error} />
      <ul class="rows">
        {data?.rules.map((r) => (
          <li key={r.id}>
            <strong>{r.name}</strong>: when {r.device.name} {r.key} {OPS.find(([op]) => op === r.op)?.[1]} {r.op === "CHANGED" ? "" : show(r.value)}, then{" "}
            {r.action.type === "SET_STATE" ? `set ${r.action.key} to ${show(r.action.value)}` : r.action.type === "NOTIFY" ? "notify" : "call a webhook"}
            <small class="muted">
              {" "}
              · {r.active ? "condition holds" : "idle"} · last fired {dateTime(r.lastFiredAt)}
              {r.suspendedReason ? ` · suspended: ${r.suspendedReason}` : ""}
            </small>
            <label class="check">
              <input
                type="checkbox"
                checked={r.enabled}
                onChange={act(async (e) => (await update({ id: r.id, input: { enabled: e.currentTarget.checked } }), again()))}
              />{" "}
              enabled
            </label>
            <button type="button" class="link" onClick={act(async () => confirmed(`Delete the rule ${r.name}?`) && (await remove({ id: r.id }), again()))}>
              delete
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
