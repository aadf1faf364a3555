import { LruMap } from "toad-cache";

export interface LoadingCacheOptions<K, V> {
  /** Reads the value from the source of truth; undefined when there is none (not cached). */
  readonly load: (key: K) => Promise<V | undefined>;
  /** Least-recently-used entries beyond this are evicted. */
  readonly max?: number;
  /** Entries older than this are reloaded (0: kept until evicted or forgotten). */
  readonly ttlMs?: number;
}

interface Flight<V> {
  promise: Promise<V | undefined>;
}

/**
 * A read-through cache with in-flight de-duplication, the one every service uses (devices, device
 * state, sessions, rules). Its invalidation rule is the same everywhere: `forget` (or `set`) ends the
 * key's current generation, so a load that started before it neither caches what it read nor is
 * joined by a caller that arrives after it. Callers that were already waiting keep their answer:
 * they asked before the change.
 */
export class LoadingCache<K, V> {
  private readonly entries: LruMap<V>;
  private readonly flights = new Map<K, Flight<V>>();
  private readonly loader: (key: K) => Promise<V | undefined>;

  constructor(options: LoadingCacheOptions<K, V>) {
    this.loader = options.load;
    this.entries = new LruMap<V>(options.max ?? 100_000, options.ttlMs ?? 0);
  }

  /** The cached value only: for hot paths that must not wait. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** The cached value, else one load shared by every caller of this generation. */
  get(key: K): Promise<V | undefined> {
    const cached = this.entries.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.flights.get(key)?.promise ?? this.fly(key, this.loader(key));
  }

  /** Several keys: cached ones from memory, loads in flight joined, the rest in one `loadMany`. */
  async getMany(keys: readonly K[], loadMany: (keys: K[]) => Promise<Map<K, V>>): Promise<Map<K, V>> {
    const pending: Array<[K, Promise<V | undefined>]> = [];
    const missing: K[] = [];
    const result = new Map<K, V>();
    for (const key of new Set(keys)) {
      const cached = this.entries.get(key);
      if (cached !== undefined) result.set(key, cached);
      else {
        const joined = this.flights.get(key);
        if (joined) pending.push([key, joined.promise]);
        else missing.push(key);
      }
    }
    if (missing.length > 0) {
      const batch = loadMany(missing);
      for (const key of missing)
        pending.push([
          key,
          this.fly(
            key,
            batch.then((found) => found.get(key)),
          ),
        ]);
    }
    for (const [key, promise] of pending) {
      const value = await promise;
      if (value !== undefined) result.set(key, value);
    }
    return result;
  }

  private fly(key: K, load: Promise<V | undefined>): Promise<V | undefined> {
    const flight: { promise: Promise<V | undefined> } = { promise: undefined as never };
    flight.promise = load.then(
      (value) => {
        if (this.flights.get(key) !== flight) return this.entries.get(key) ?? value; // forgotten or set meanwhile
        this.flights.delete(key);
        if (value !== undefined) this.entries.set(key, value);
        return value;
      },
      (error: unknown) => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
        throw error;
      },
    );
    this.flights.set(key, flight);
    return flight.promise;
  }

  /** A value known to be newer than the source's (a commit): wins over a load in flight. */
  set(key: K, value: V): void {
    this.flights.delete(key);
    this.entries.set(key, value);
  }

  /** The key changed elsewhere: drop the cached value and the load in flight. */
  forget(key: K): void {
    this.flights.delete(key);
    this.entries.delete(key);
  }

  /** Ends every load in flight (a change whose key is not known, e.g. a rotated-out token). */
  forgetLoads(): void {
    this.flights.clear();
  }

  clear(): void {
    this.flights.clear();
    this.entries.clear();
  }
}
