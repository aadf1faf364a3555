/**
 * Counts events per key in fixed windows (the REST budget's shape: N per window). Memory is bounded:
 * the whole table is dropped when a window ends, and beyond `maxKeys` new keys count as over budget,
 * so a flood of distinct keys cannot grow it.
 */
export class WindowCounter {
  private counts = new Map<string, number>();
  private windowStart = Date.now();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one event of `key`; returns how far it is over budget (0: within it). */
  hit(key: string, now = Date.now()): number {
    if (now - this.windowStart >= this.windowMs) {
      this.counts.clear();
      this.windowStart = now;
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    if (count === 1 && this.counts.size >= this.maxKeys) return 1;
    this.counts.set(key, count);
    return Math.max(0, count - this.max);
  }

  /** Whether `key` has used its budget up, without counting. */
  exhausted(key: string, now = Date.now()): boolean {
    if (now - this.windowStart >= this.windowMs) return false;
    return (this.counts.get(key) ?? 0) >= this.max;
  }

  /** Milliseconds until the current window ends. */
  retryAfterMs(now = Date.now()): number {
    return Math.max(0, this.windowStart + this.windowMs - now);
  }
}
