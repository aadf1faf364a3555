import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { ago, dateTime, numberOf, show } from "../lib/format";
import { useLiveDevices, useTelemetry } from "../lib/live";
import { DELETE_DEVICE, DEVICE_ONE, ROTATE_TOKEN, SET_DEVICE_STATE, TELEMETRY_KEYS, UPDATE_DEVICE } from "../lib/ops";
import { navigate } from "../lib/router";
import { useTimeZone } from "../lib/time-zone";
import type { Device, Json, JsonObject, TelemetryKey } from "../lib/types";
import { act, confirmed, ErrorText, Field, Panel } from "../ui/forms";
import { CsvDownload } from "./csv-download";
import { TokenOnce } from "./device-token";
import { StatusBadge } from "./devices";
import { KeyChart, RangePicker } from "./history";

function StateTable({ state }: { state: Device["state"] }) {
  const keys = [...new Set([...Object.keys(state.reported), ...Object.keys(state.desired)])].sort();
  if (keys.length === 0) return <p>The device has reported nothing yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Reported</th>
            <th scope="col">Desired (pending)</th>
            <th scope="col">Merged</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{show(state.reported[k])}</td>
              <td>{k in state.desired ? <span class="pending">{show(state.desired[k])}</span> : "–"}</td>
              <td>{show(state.merged[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A command for any key: a desired value the device picks up on its next poll. */
function Command({ deviceId }: { deviceId: string }) {
  const [key, setKey] = useState("v0");
  const [value, setValue] = useState("1");
  const [result, send] = useMutation(SET_DEVICE_STATE);
  const parse = (text: string): Json => {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  };
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        void send({ deviceId, desired: { [key]: parse(value) } as JsonObject });
      }}
    >
      <Field label="Key" value={key} onValue={setKey} required />
      <Field label="Value (JSON)" value={value} onValue={setValue} required />
      <button type="submit">Send command</button>
      <ErrorText error={result.error} />
    </form>
  );
}

function Manage({ device }: { device: Device }) {
  const [name, setName] = useState(device.name);
  const [renamed, rename] = useMutation(UPDATE_DEVICE);
  const [rotated, rotate] = useMutation<{ rotateDeviceToken: { token: string } }>(ROTATE_TOKEN);
  const [deleted, remove] = useMutation(DELETE_DEVICE);
  const [token, setToken] = useState<string | null>(null);
  return (
    <Panel title="Manage">
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void rename({ id: device.id, input: { name } });
        }}
      >
        <Field label="Name" value={name} onValue={setName} required />
        <button type="submit">Rename</button>
      </form>
      {token ? <TokenOnce deviceId={device.id} name={device.name} token={token} onDone={() => setToken(null)} /> : null}
      <p class="inline">
        <button
          type="button"
          class="secondary"
          onClick={act(async () => {
            if (!confirmed(`Rotate the token of ${device.name}? The old one stops working at once.`)) return;
            const { data } = await rotate({ id: device.id });
            if (data) setToken(data.rotateDeviceToken.token);
          })}
        >
          Rotate token
        </button>
        <button
          type="button"
          class="danger"
          onClick={act(async () => {
            if (!confirmed(`Delete ${device.name} with its state, history and widgets?`)) return;
            const { error } = await remove({ id: device.id });
            if (!error) navigate("/console/devices");
          })}
        >
          Delete device
        </button>
      </p>
      <ErrorText error={renamed.error ?? rotated.error ?? deleted.error} />
    </Panel>
  );
}

/** Every key the device has reported (telemetryKeys), with its latest value and point count. */
function KeyTable({ keys, timeZone }: { keys: TelemetryKey[]; timeZone: string }) {
  if (keys.length === 0) return null;
  return (
    <div class="table-wrap">
      <table aria-label="Reported keys">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Latest value</th>
            <th scope="col">At</th>
            <th scope="col">Points</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.key}>
              <th scope="row">{k.key}</th>
              <td>{show(k.value)}</td>
              <td>{k.ts ? new Date(k.ts).toLocaleString(undefined, { timeZone }) : "–"}</td>
              <td>{k.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DevicePage({ id }: { id: string }) {
  const [{ data, error }] = useQuery<{ device: Device | null }>({ query: DEVICE_ONE, variables: { id } });
  const [device] = useLiveDevices(data?.device ? [data.device] : undefined, id);
  const [keysResult, refetchKeys] = useQuery<{ telemetryKeys: TelemetryKey[] }>({ query: TELEMETRY_KEYS, variables: { deviceId: id }, pause: !data?.device });
  const live = useTelemetry(id);
  const timeZone = useTimeZone();
  const [range, setRange] = useState("3600");
  const [bucket, setBucket] = useState("");
  const keys = keysResult.data?.telemetryKeys ?? [];
  const liveKeys = live ? Object.keys(live.data) : [];
  // A report with a key the list does not have yet asks for the list again.
  const unknown = liveKeys.some((k) => !keys.some((known) => known.key === k));
  useEffect(() => {
    if (unknown && !keysResult.fetching) refetchKeys({ requestPolicy: "network-only" });
  }, [unknown]);
  if (error) return <ErrorText error={error} />;
  if (data && !data.device) return <p>No such device.</p>;
  if (!device || !timeZone) return <p>Loading…</p>;
  const numericNow = Object.entries(device.state.reported).filter(([, v]) => numberOf(v) !== null);
  const numeric = [...new Set([...keys.filter((k) => numberOf(k.value) !== null).map((k) => k.key), ...numericNow.map(([k]) => k)])]
    .filter((k) => k !== "timestamp")
    .sort();
  return (
    <>
      <h1>
        {device.name} <StatusBadge device={device} />
      </h1>
      <p class="muted">
        {device.connection.transport} · last seen {ago(device.lastSeenAt)} · state reported {dateTime(device.state.reportedAt)} · id <code>{device.id}</code>
      </p>
      <Panel title="State">
        <StateTable state={device.state} />
        <Command deviceId={device.id} />
      </Panel>
      <Panel
        title="History"
        actions={
          <div class="inline">
            <RangePicker range={range} bucket={bucket} onRange={setRange} onBucket={setBucket} />
            <CsvDownload deviceId={device.id} keys={keys.map((k) => k.key)} range={range} bucket={bucket} timeZone={timeZone} />
          </div>
        }
      >
        <KeyTable keys={keys} timeZone={timeZone} />
        {numeric.length === 0 ? <p>No numeric keys reported yet.</p> : null}
        <div class="charts">
          {numeric.map((k) => (
            <section key={k} aria-label={`History of ${k}`}>
              <h3>{k}</h3>
              <KeyChart deviceId={device.id} keyName={k} range={range} bucket={bucket} live={live} timeZone={timeZone} />
            </section>
          ))}
        </div>
      </Panel>
      <Manage device={device} />
    </>
  );
}
