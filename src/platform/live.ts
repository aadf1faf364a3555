import type { EventBus, Payloads, Topic } from "./event-bus.js";

type Routed =
  Topic.TelemetryReported | Topic.DeviceStatusChanged | Topic.DeviceStateChanged | Topic.WidgetChanged | Topic.NotificationAdded | Topic.FirmwareUpdateChanged;
type Handler = (payload: never) => void;

/**
 * One bus listener per topic and process, dispatching by owner (and device): an event costs a
 * map lookup and the handlers of its own audience, not a call to every open subscription. With
 * 10,000 idle sockets a report would otherwise run 10,000 filters.
 */
const routers = new WeakMap<EventBus, Map<Topic, Map<string, Set<Handler>>>>();

function keysOf(payload: { ownerId?: string; userId?: string; deviceId?: string }): [string, string | undefined] {
  const owner = payload.ownerId ?? payload.userId ?? "";
  return [owner, payload.deviceId ? `${owner}/${payload.deviceId}` : undefined];
}

function route<T extends Routed>(bus: EventBus, topic: T, key: string, handler: (payload: Payloads[T]) => void): () => void {
  let byTopic = routers.get(bus);
  if (!byTopic) routers.set(bus, (byTopic = new Map()));
  let byKey = byTopic.get(topic);
  if (!byKey) {
    const table = new Map<string, Set<Handler>>();
    byTopic.set(topic, (byKey = table));
    bus.subscribe(topic, (payload) => {
      for (const k of keysOf(payload as never)) {
        if (k === undefined) continue;
        const handlers = table.get(k);
        if (handlers) for (const h of [...handlers]) (h as (p: Payloads[T]) => void)(payload as Payloads[T]);
      }
    });
  }
  let set = byKey.get(key);
  if (!set) byKey.set(key, (set = new Set()));
  set.add(handler as Handler);
  return () => {
    set!.delete(handler as Handler);
    if (set!.size === 0) byKey!.delete(key);
  };
}

export class SlowConsumerError extends Error {
  override name = "SlowConsumerError";
}

/**
 * Events of one topic as an async iterator for one subscriber, with a bounded buffer: a subscriber
 * that does not keep up fails (its socket is closed) instead of growing memory or slowing the
 * publisher, which only ever pushes into arrays.
 */
export function liveStream<T extends Routed, R>(
  bus: EventBus,
  topic: T,
  options: {
    /** Whose events: the owner's id, or `${ownerId}/${deviceId}` for one device's. */
    audience: string;
    filter: (payload: Payloads[T]) => boolean;
    map: (payload: Payloads[T]) => R;
    max?: number;
  },
): AsyncIterableIterator<R> {
  const max = options.max ?? 1000;
  const buffer: R[] = [];
  let waiting: ((result: IteratorResult<R>) => void) | undefined;
  let failed: Error | undefined;
  let done = false;

  const unsubscribe = route(bus, topic, options.audience, (payload) => {
    if (done || !options.filter(payload)) return;
    const value = options.map(payload);
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
    } else if (buffer.length < max) {
      buffer.push(value);
    } else {
      failed = new SlowConsumerError(`subscriber too slow: more than ${max} events waiting`);
      unsubscribe();
    }
  });

  const finish = (): Promise<IteratorResult<R>> => {
    done = true;
    unsubscribe();
    buffer.length = 0;
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  };

  return {
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (failed) return Promise.reject(failed);
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
    throw(error) {
      void finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
