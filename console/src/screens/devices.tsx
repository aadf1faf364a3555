import { useMemo, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { ago } from "../lib/format";
import { useLiveDevices } from "../lib/live";
import { CREATE_DEVICE, DEVICES } from "../lib/ops";
import { onLinkClick } from "../lib/router";
import type { Device } from "../lib/types";
import { ErrorText, Field, Panel } from "../ui/forms";
import { TokenOnce } from "./device-token";

/** Device.firmwareVersion: the fw_version the device reports. */
const firmwareOf = (d: Device): string => d.firmwareVersion ?? "–";

export function StatusBadge({ device }: { device: Pick<Device, "status"> }) {
  const online = device.status === "ONLINE";
  return <span class={`status ${online ? "online" : "offline"}`}>{online ? "online" : "offline"}</span>;
}

function AddDevice() {
  const [name, setName] = useState("");
  const [location, setLocation] = useState("");
  const [result, create] = useMutation<{ createDevice: { token: string; device: Device } }>(CREATE_DEVICE);
  const [shown, setShown] = useState<{ token: string; device: Device } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const { data } = await create({ input: { name, type: "esp32", location: location || undefined } });
    if (data) {
      setShown(data.createDevice);
      setName("");
      setLocation("");
    }
  };
  return (
    <Panel title="Add a device">
      {shown ? (
        <TokenOnce deviceId={shown.device.id} name={shown.device.name} token={shown.token} onDone={() => setShown(null)} />
      ) : (
        <form class="inline" onSubmit={(e) => void submit(e)}>
          <Field label="Name" value={name} onValue={setName} required maxLength={100} />
          <Field label="Location (optional)" value={location} onValue={setLocation} />
          <button type="submit" disabled={result.fetching}>
            Add device
          </button>
          <ErrorText error={result.error} />
        </form>
      )}
    </Panel>
  );
}

export function Devices() {
  // An empty list holds no Device for the cache to watch: name the type so createDevice refreshes it.
  const context = useMemo(() => ({ additionalTypenames: ["Device"] }), []);
  const [{ data, error, fetching }] = useQuery<{ devices: Device[] }>({ query: DEVICES, context });
  const devices = useLiveDevices(data?.devices);
  return (
    <>
      <h1>Devices</h1>
      <AddDevice />
      <ErrorText error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {data && devices.length === 0 ? <p>No devices yet: add one above, then paste its lines into the firmware's serial console.</p> : null}
      {devices.length > 0 ? (
        <div class="table-wrap">
          <table class="devices">
            <caption class="sr-only">Your devices</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
                <th scope="col">Transport</th>
                <th scope="col">Firmware</th>
              </tr>
            </thead>
            <tbody>
              {devices.map((d) => (
                <tr key={d.id} data-device={d.id}>
                  <td>
                    <a href={`/console/devices/${d.id}`} onClick={onLinkClick}>
                      {d.name}
                    </a>
                    {d.location ? <small class="muted"> · {d.location}</small> : null}
                  </td>
                  <td>
                    <StatusBadge device={d} />
                  </td>
                  <td title={d.lastSeenAt ?? ""}>{ago(d.lastSeenAt)}</td>
                  <td>{d.connection.transport}</td>
                  <td>{firmwareOf(d)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
