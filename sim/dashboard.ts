// --dashboard: one dashboard with a switch per output pin and a gauge per sensor of every simulated
// device, made through the public GraphQL API like the app would, so a fresh fleet can be driven from
// the app at once. Idempotent: the dashboard is found by name and only missing widgets are added.
import { PIN_NAMES, type Sensors } from "./protocol.js";
import { gql, type DeviceRecord } from "./provision.js";

export const DASHBOARD_NAME = "Simulator";
/** The server's limit (src/services/dashboards/widget.rules.ts); planned for here so a big fleet gets whole devices. */
const MAX_WIDGETS = 100;

type SensorKey = keyof ReturnType<Sensors["read"]>;
/** Ranges of what sim/protocol.ts's Sensors report, for the gauges' scales; a new sensor fails to compile until it is here. */
const GAUGES: Record<SensorKey, { unit: string; min: number; max: number }> = {
  temperature: { unit: "°C", min: 0, max: 50 },
  humidity: { unit: "%", min: 0, max: 100 },
  rssi: { unit: "dBm", min: -100, max: -30 },
};

interface WidgetSpec {
  type: "led" | "gauge";
  label: string;
  deviceId: string;
  virtualPin?: string;
  key?: string;
  config: Record<string, unknown>;
  width: number;
}

interface ExistingWidget {
  type: string;
  deviceId: string | null;
  virtualPin: string | null;
  key: string | null;
}

/** A device's widgets: its four switches on one row of the 12-column grid, its three gauges on the next. */
export function widgetsOf(device: DeviceRecord): WidgetSpec[] {
  const leds = PIN_NAMES.map((pin): WidgetSpec => ({
    type: "led",
    label: `${device.name} ${pin}`,
    deviceId: device.id,
    virtualPin: pin,
    config: {},
    width: 3,
  }));
  const gauges = (Object.keys(GAUGES) as SensorKey[]).map((key): WidgetSpec => ({
    type: "gauge",
    label: `${device.name} ${key}`,
    deviceId: device.id,
    key,
    config: GAUGES[key],
    width: 4,
  }));
  return [...leds, ...gauges];
}

/** The binding that makes two widgets the same for a re-run: device and pin, or device and key. */
const bindingOf = (w: { deviceId: string | null; virtualPin?: string | null; key?: string | null }) =>
  `${w.deviceId}/${w.virtualPin ? `pin:${w.virtualPin}` : `key:${w.key}`}`;

export interface DashboardResult {
  id: string;
  created: boolean;
  added: number;
  kept: number;
  /** Devices that got no widgets because the dashboard is full. */
  leftOut: string[];
}

/** Finds or creates the dashboard and adds the widgets it lacks, in device order, until it is full. */
export async function ensureDashboard(url: string, accessToken: string, devices: DeviceRecord[]): Promise<DashboardResult> {
  const { dashboards } = await gql<{ dashboards: Array<{ id: string; name: string; widgets: ExistingWidget[] }> }>(
    url,
    `{ dashboards { id name widgets { type deviceId virtualPin key } } }`,
    {},
    accessToken,
  );
  let dashboard = dashboards.find((d) => d.name === DASHBOARD_NAME);
  const created = dashboard === undefined;
  if (!dashboard) {
    const data = await gql<{ createDashboard: { id: string } }>(
      url,
      `mutation ($input: CreateDashboardInput!) { createDashboard(input: $input) { id } }`,
      { input: { name: DASHBOARD_NAME, description: "Made by npm run simulate -- --dashboard: a switch per output pin, a gauge per sensor" } },
      accessToken,
    );
    dashboard = { id: data.createDashboard.id, name: DASHBOARD_NAME, widgets: [] };
  }
  const have = new Set(dashboard.widgets.filter((w) => w.type === "led" || w.key !== null).map(bindingOf));
  let count = dashboard.widgets.length;
  let added = 0;
  let kept = 0;
  const leftOut: string[] = [];
  for (const device of devices) {
    const missing = widgetsOf(device).filter((w) => !have.has(bindingOf(w)));
    kept += widgetsOf(device).length - missing.length;
    if (count + missing.length > MAX_WIDGETS) {
      if (missing.length > 0) leftOut.push(device.name);
      continue;
    }
    // One at a time: the dashboard's order is the order of creation.
    for (const spec of missing) {
      await gql(
        url,
        `mutation ($input: CreateWidgetInput!) { createWidget(input: $input) { id } }`,
        { input: { dashboardId: dashboard.id, ...spec } },
        accessToken,
      );
      count++;
      added++;
    }
  }
  return { id: dashboard.id, created, added, kept, leftOut };
}

/** `Dashboard "Simulator" created: 14 widget(s) added` or `... reused: 7 added, 14 already there`, plus who was left out. */
export function describeDashboard(r: DashboardResult): string {
  const head = r.created
    ? `Dashboard "${DASHBOARD_NAME}" created: ${r.added} widget(s) added`
    : `Dashboard "${DASHBOARD_NAME}" reused: ${r.added} widget(s) added, ${r.kept} already there`;
  const names = r.leftOut.length > 3 ? `${r.leftOut[0]} … ${r.leftOut.at(-1)} (${r.leftOut.length} devices)` : r.leftOut.join(", ");
  return r.leftOut.length === 0 ? head : `${head}; no widgets for ${names}: at most ${MAX_WIDGETS} widgets per dashboard`;
}
