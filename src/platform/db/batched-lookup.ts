import { isDatabaseUnavailable } from "../errors.js";

/**
 * Look-ups by key that arrive in the same turn of the event loop go to the database as one query
 * (`WHERE key = ANY($1)`), and at most `maxInFlight` such queries run at once; keys asked for
 * meanwhile wait and go together in the next one. A burst of new connections (a fleet reconnecting
 * after a restart) then costs a few queries and a few pool connections, not one of each per device,
 * which would queue behind each other and past the pool's wait bound.
 */
export class BatchedLookup<V> {
  private queue: Array<{ key: string; resolve: (value: V | undefined) => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    /** Finds the keys that exist; a key missing from the map has no value. */
    private readonly lookup: (keys: string[]) => Promise<Map<string, V>>,
    private readonly options: { maxBatch: number; maxInFlight: number } = { maxBatch: 1000, maxInFlight: 2 },
  ) {}

  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // After the I/O callbacks of this turn: every request parsed in it joins the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.lookup([...new Set(batch.map((entry) => entry.key))])
        .then(
          (found) => batch.forEach((entry) => entry.resolve(found.get(entry.key))),
          (error: unknown) => {
            batch.forEach((entry) => entry.reject(error));
            // The database is away (frozen, down): the keys queued behind this batch would each wait
            // out a timeout of their own, one batch after another. They get the answer now.
            if (isDatabaseUnavailable(error)) for (const entry of this.queue.splice(0)) entry.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.schedule();
        });
    }
  }
}
