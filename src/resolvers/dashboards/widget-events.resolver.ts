import { Args, ArgsType, Authorized, Field, ID, ObjectType, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { Device } from "../../entities/device.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { Topic, type Payloads } from "../../platform/event-bus.js";
import { liveStream } from "../../platform/live.js";
import { deviceLoader } from "../devices/device.resolver.js";

type StateEvent = Payloads[Topic.DeviceStateChanged];
type Item = { kind: "widget"; p: Payloads[Topic.WidgetChanged] } | { kind: "state"; p: StateEvent };

/**
 * What one state change means for widgets, loaded once per event and shared by every subscriber in
 * this process (the payload object is the same for all of them): N subscribers, one query.
 */
const affected = new WeakMap<StateEvent, Promise<{ widgets: Widget[]; device: Device | undefined }>>();
function widgetsOf(ctx: GqlContext, event: StateEvent): Promise<{ widgets: Widget[]; device: Device | undefined }> {
  let found = affected.get(event);
  if (!found) {
    const { widgets, devices } = ctx.services;
    found = Promise.all([widgets.byDevices(event.ownerId, [event.deviceId]), devices.getOwned(event.ownerId, event.deviceId)]).then(([byDevice, device]) => ({
      widgets: byDevice.get(event.deviceId) ?? [],
      device,
    }));
    affected.set(event, found);
  }
  return found;
}

/** Merges async iterators, ending them all when the consumer stops. */
async function* merge<T>(...sources: AsyncIterableIterator<T>[]): AsyncGenerator<T> {
  const next = sources.map((s, i) => s.next().then((r) => ({ r, i })));
  try {
    for (;;) {
      const { r, i } = await Promise.race(next);
      if (r.done) return;
      next[i] = sources[i]!.next().then((res) => ({ r: res, i }));
      yield r.value;
    }
  } finally {
    await Promise.all(sources.map(async (s) => s.return?.()));
  }
}

/**
 * widgetUpdated: the caller's widgets (of one dashboard, when given) when they are created,
 * changed, moved or deleted, and when their value or pending flag changes with the device's state.
 */
export async function widgetEvents(ctx: GqlContext, dashboardId: string | null | undefined): Promise<AsyncIterable<WidgetEvent>> {
  const owner = userIdOf(ctx);
  const dashboard = dashboardId ? (await ctx.services.dashboards.requireOwned(owner, dashboardId)).id : undefined;
  const bus = ctx.services.bus;
  const direct = liveStream(bus, Topic.WidgetChanged, {
    audience: owner,
    filter: (p) => p.ownerId === owner && (!dashboard || p.dashboardId === dashboard),
    map: (p): Item => ({ kind: "widget", p }),
  });
  const derived = liveStream(bus, Topic.DeviceStateChanged, { audience: owner, filter: (p) => p.ownerId === owner, map: (p): Item => ({ kind: "state", p }) });
  return (async function* () {
    for await (const item of merge<Item>(direct, derived)) {
      ctx.loaders.clear(); // values must come from this event's state, not a cached earlier one
      if (item.kind === "widget") {
        const widget = Object.assign(new Widget(), item.p.widget, {
          createdAt: new Date(item.p.widget.createdAt),
          updatedAt: new Date(item.p.widget.updatedAt),
        });
        yield { dashboardId: item.p.dashboardId, widget, deleted: item.p.deleted };
        continue;
      }
      const { widgets, device } = await widgetsOf(ctx, item.p);
      const mine = widgets.filter((w) => !dashboard || w.dashboardId === dashboard);
      if (mine.length === 0) continue;
      // Widget.device comes from the shared load; value and pending read the state from memory.
      if (device) deviceLoader(ctx).prime(device.id, device);
      for (const widget of mine) yield { dashboardId: widget.dashboardId, widget, deleted: false };
    }
  })();
}

@ObjectType()
export class WidgetEvent {
  @Field(() => ID)
  dashboardId: string;

  @Field(() => Widget, { description: "the widget after the change; for a deletion, as it was" })
  widget: Widget;

  @Field(() => Boolean)
  deleted: boolean;
}

@ArgsType()
export class DashboardFilterArgs {
  @Field(() => ID, { nullable: true, description: "one of the caller's dashboards; all of them when omitted" })
  dashboardId?: string | null;
}

@Resolver()
export class WidgetEventsResolver {
  @Authorized()
  @Subscription(() => WidgetEvent, {
    description: "Widgets created, changed, moved or deleted, and value/pending changes from their device",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, DashboardFilterArgs, GqlContext>) => widgetEvents(context, args.dashboardId),
  })
  widgetUpdated(@Root() event: WidgetEvent, @Args(() => DashboardFilterArgs) _args: DashboardFilterArgs): WidgetEvent {
    return event;
  }
}
