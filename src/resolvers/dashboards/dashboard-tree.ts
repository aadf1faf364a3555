import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import type { Device } from "../../entities/device.entity.js";
import type { Widget } from "../../entities/widget.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import type { DashboardTree } from "../../services/dashboards/dashboard-rows.js";
import type { DeviceStateData } from "../../services/telemetry/device-state.model.js";
import { deviceLoader } from "../devices/device.resolver.js";
import { stateLoader } from "../telemetry/device-state.resolver.js";

/**
 * The dashboard tree (`dashboards { widgets { value device { state } } }`) resolves a few hundred
 * widgets. When the query asks for their devices or states, the list resolver loads them up front
 * (the same DataLoaders, so the same statements), and the widgets' fields then answer synchronously:
 * a promise per widget field was a large share of the execution's cost in the profile.
 */

/**
 * What a request's loaders already hold, readable without a promise. Kept per loader instance, so a
 * subscription that drops its loaders between events (`ctx.loaders.clear()`) drops these too.
 */
const settled = new WeakMap<object, Map<string, unknown>>();

function settledOf<V>(loader: object): Map<string, V> {
  let found = settled.get(loader);
  if (!found) settled.set(loader, (found = new Map()));
  return found as Map<string, V>;
}

/** The widgets of many dashboards in one query, each list in layout order. */
export function widgetsOfDashboard(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Widget[]>(ctx, "widgetsByDashboard", async (ids) => {
    const found = await ctx.services.widgets.byDashboards(owner, ids);
    return ids.map((id) => found.get(id) ?? []);
  });
}

/** Whether the field's selection asks for the `path` below it (fragments followed; @skip/@include count as asked). */
export function asks(info: GraphQLResolveInfo, ...path: string[]): boolean {
  const has = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): boolean => {
    if (!set) return false;
    for (const node of set.selections) {
      if (node.kind === Kind.FIELD) {
        if (node.name.value === path[depth] && (depth === path.length - 1 || has(node.selectionSet, depth + 1, seen))) return true;
      } else if (node.kind === Kind.INLINE_FRAGMENT) {
        if (has(node.selectionSet, depth, seen)) return true;
      } else if (!seen.has(node.name.value)) {
        seen.add(node.name.value);
        if (has(info.fragments[node.name.value]?.selectionSet, depth, seen)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node) => has(node.selectionSet, 0, new Set()));
}

/**
 * After the tree's one statement: its widget lists go into the loader, and the devices and states the
 * selection will ask for are loaded at once (one batch each), before any widget field runs.
 */
export async function settleTree(ctx: GqlContext, info: GraphQLResolveInfo, tree: DashboardTree): Promise<void> {
  const lists = widgetsOfDashboard(ctx);
  for (const [id, widgets] of tree.widgets) {
    lists.prime(id, widgets);
    settledOf<Widget[]>(lists).set(id, widgets);
  }
  const ids = [...new Set([...tree.widgets.values()].flatMap((list) => list.map((w) => w.deviceId).filter((id) => id !== null)))];
  if (ids.length === 0) return;
  const wantsDevices = asks(info, "widgets", "device");
  const wantsStates = asks(info, "widgets", "value") || asks(info, "widgets", "pending") || asks(info, "widgets", "device", "state");
  const [devices, states] = await Promise.all([wantsDevices ? deviceLoader(ctx).loadMany(ids) : [], wantsStates ? stateLoader(ctx).loadMany(ids) : []]);
  // Failures are left out: the field's own load then reports them as before.
  devices.forEach((d, i) => d instanceof Error || settledOf<Device | null>(deviceLoader(ctx)).set(ids[i]!, d));
  states.forEach((s, i) => s instanceof Error || settledOf<DeviceStateData>(stateLoader(ctx)).set(ids[i]!, s));
}

/** A dashboard's widgets, without a promise when the tree loaded them. */
export function widgetsOf(ctx: GqlContext, dashboardId: string): Widget[] | Promise<Widget[]> {
  const lists = widgetsOfDashboard(ctx);
  return settledOf<Widget[]>(lists).get(dashboardId) ?? lists.load(dashboardId);
}

/** After a mutation changed a dashboard's widgets: later fields load them again. */
export function forgetWidgets(ctx: GqlContext, dashboardId: string): void {
  const lists = widgetsOfDashboard(ctx);
  lists.clear(dashboardId);
  settledOf(lists).delete(dashboardId);
}

/** The device of a widget, without a promise when prefetched. */
export function deviceOfWidget(ctx: GqlContext, deviceId: string): Device | null | Promise<Device | null> {
  const loader = deviceLoader(ctx);
  const device = settledOf<Device | null>(loader).get(deviceId);
  return device !== undefined ? device : loader.load(deviceId);
}

/** A device's state, without a promise when prefetched. */
export function stateOfWidget(ctx: GqlContext, deviceId: string): DeviceStateData | Promise<DeviceStateData> {
  const loader = stateLoader(ctx);
  return settledOf<DeviceStateData>(loader).get(deviceId) ?? loader.load(deviceId);
}

/** After a command in this request: later fields show the state it produced. */
export function settleState(ctx: GqlContext, state: DeviceStateData): void {
  const loader = stateLoader(ctx);
  loader.clear(state.deviceId).prime(state.deviceId, state);
  settledOf<DeviceStateData>(loader).set(state.deviceId, state);
}
