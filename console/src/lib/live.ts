import { useEffect, useState } from "preact/hooks";
import { useSubscription } from "@urql/preact";
import { STATE_CHANGED, STATUS_CHANGED, TELEMETRY_UPDATED } from "./ops";
import type { Device, DeviceState, JsonObject } from "./types";

type Patch = Partial<Pick<Device, "status" | "lastSeenAt" | "state">>;

/**
 * Devices kept live by subscriptions (status transitions, reports, state changes) over what a query
 * returned; `deviceId` narrows the subscriptions to one device.
 */
type LiveDevice = Pick<Device, "id" | "status" | "lastSeenAt" | "connection">;

export function useLiveDevices<D extends LiveDevice>(devices: D[] | undefined, deviceId?: string): D[] {
  const [patches, setPatches] = useState<Record<string, Patch>>({});
  const patch = (id: string, p: Patch) => setPatches((all) => ({ ...all, [id]: { ...all[id], ...p } }));
  const variables = deviceId ? { deviceId } : {};
  const [status] = useSubscription<{ deviceStatusChanged: { deviceId: string; status: Device["status"]; timestamp: string } }>({
    query: STATUS_CHANGED,
    variables,
  });
  const [telemetry] = useSubscription<{ telemetryUpdated: { deviceId: string; data: JsonObject; timestamp: string } }>({ query: TELEMETRY_UPDATED, variables });
  const [state] = useSubscription<{ deviceStateChanged: DeviceState }>({ query: STATE_CHANGED, variables });
  useEffect(() => {
    const e = status.data?.deviceStatusChanged;
    if (e) patch(e.deviceId, { status: e.status, ...(e.status === "ONLINE" ? { lastSeenAt: e.timestamp } : {}) });
  }, [status.data]);
  useEffect(() => {
    const e = telemetry.data?.telemetryUpdated;
    if (e) patch(e.deviceId, { lastSeenAt: e.timestamp, status: "ONLINE" });
  }, [telemetry.data]);
  useEffect(() => {
    const e = state.data?.deviceStateChanged;
    if (e && devices?.some((d) => "state" in d)) patch(e.deviceId, { state: e });
  }, [state.data]);
  // A fresh query result starts again from the server's view.
  useEffect(() => setPatches({}), [devices]);
  return (devices ?? []).map((d) => {
    const p = patches[d.id];
    if (!p) return d;
    const connection = p.status ? { ...d.connection, connected: p.status === "ONLINE" } : d.connection;
    return { ...d, ...p, connection };
  });
}

/** The newest telemetry event of one device, for charts that append live points. */
export function useTelemetry(deviceId: string): { deviceId: string; data: JsonObject; timestamp: string } | undefined {
  const [telemetry] = useSubscription<{ telemetryUpdated: { deviceId: string; data: JsonObject; timestamp: string } }>({
    query: TELEMETRY_UPDATED,
    variables: { deviceId },
  });
  return telemetry.data?.telemetryUpdated;
}
