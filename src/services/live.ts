import type { EventBus, Payloads, Topic } from "./event-bus.js";

export class SlowConsumerError extends Error {
  override name = "SlowConsumerError";
}

/**
 * Events of one topic as an async iterator for one subscriber, with a bounded buffer: a subscriber
 * that does not keep up fails (its socket is closed) instead of growing memory or slowing the
 * publisher, which only ever pushes into arrays.
 */
export function liveStream<T extends Topic, R>(
  bus: EventBus,
  topic: T,
  options: { filter: (payload: Payloads[T]) => boolean; map: (payload: Payloads[T]) => R; max?: number },
): AsyncIterableIterator<R> {
  const max = options.max ?? 1000;
  const buffer: R[] = [];
  let waiting: ((result: IteratorResult<R>) => void) | undefined;
  let failed: Error | undefined;
  let done = false;

  const unsubscribe = bus.subscribe(topic, (payload) => {
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
