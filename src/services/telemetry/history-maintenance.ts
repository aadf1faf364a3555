import type { Pool } from "pg";
import type { Logger } from "pino";
import type { HistoryConfig } from "../../platform/config/history.js";
import { withTransaction } from "../../platform/db/transaction.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { JobQueue } from "../../platform/jobs.js";
import { DAY_MS } from "./device-state.model.js";

const TASK = "history.maintain";
/** Partitions are made this many months ahead, so a month never starts without its own. */
const MONTHS_AHEAD = 2;
const EVERY_MS = 6 * 3600 * 1000;
/** Creating or dropping a partition waits this long for the table's lock, then the job retries later. */
const LOCK_TIMEOUT = "5s";

export const HISTORY_TABLES = [
  { table: "telemetry_points", retention: "rawRetentionDays" },
  { table: "telemetry_5m", retention: "fiveMinuteRetentionDays" },
  { table: "telemetry_1h", retention: "hourRetentionDays" },
] as const satisfies ReadonlyArray<{ table: string; retention: keyof HistoryConfig }>;

export interface MaintenanceReport {
  created: string[];
  dropped: string[];
  /** Rollup partitions of ended months that got their covering index. */
  covered: string[];
}

/** The first day of the UTC month `offset` months from the one of `at`, as YYYY-MM-01. */
export function monthOf(at: number, offset = 0): string {
  const d = new Date(at);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1)).toISOString().slice(0, 10);
}

/**
 * Keeps the history's monthly partitions: the coming months' are created ahead, and a month whose
 * whole range is past its table's retention is dropped as one table (never row-by-row deletes).
 * A durable job under one job key, so one process runs it at a time; a failed run is logged,
 * raised as Topic.MaintenanceFailed (the notifications feature tells the admins) and retried.
 */
export class HistoryMaintenance {
  constructor(
    private readonly pool: Pool,
    private readonly jobs: JobQueue,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly config: HistoryConfig,
  ) {
    jobs.register(TASK, async () => {
      try {
        await this.run();
      } catch (error) {
        this.log.error({ err: error }, "history maintenance failed; it is retried");
        this.bus.publish(Topic.MaintenanceFailed, { task: "history partitions and retention", error: (error as Error).message });
        throw error; // the job queue retries it with backoff
      }
      await this.jobs.add(TASK, {}, { jobKey: TASK, runAt: new Date(Date.now() + EVERY_MS) });
    });
  }

  /** Makes sure the periodic job exists; every process calls this at start, one job results. */
  async schedule(): Promise<void> {
    await this.jobs.add(TASK, {}, { jobKey: TASK, preserveRunAt: true, runAt: new Date() });
  }

  async run(now = Date.now()): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { created: [], dropped: [], covered: [] };
    // From the oldest month backfill may reach (raw retention) to MONTHS_AHEAD ahead; older rows
    // of a table live in its month's partition if it holds any (the migration made those), else in the default.
    const raw = this.config.rawRetentionDays;
    const first = raw === 0 ? monthOf(now) : monthOf(now - raw * DAY_MS);
    for (const { table, retention } of HISTORY_TABLES) {
      const days = this.config[retention];
      for (let month = first, i = 0; month <= monthOf(now, MONTHS_AHEAD) && i < 1200; month = monthOf(Date.parse(month), 1), i++) {
        const created = await withTransaction(this.pool, async (db) => {
          await db.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          return (await db.query<{ made: boolean }>(`SELECT telemetry_ensure_partition($1::regclass, $2::date) AS made`, [table, month])).rows[0]!.made;
        });
        if (created) report.created.push(`${table}_${partitionSuffix(month)}`);
      }
      if (days > 0) {
        report.dropped.push(...(await this.dropPast(table, now - days * DAY_MS)));
        // Strays older than retention in the (small) default partition go row by row.
        const column = table === "telemetry_points" ? "ts" : "bucket";
        await this.pool.query(`DELETE FROM ${table}_default WHERE ${column} < $1`, [new Date(now - days * DAY_MS)]);
      }
    }
    report.covered = await coverClosedMonths(this.pool, now);
    if (report.created.length + report.dropped.length + report.covered.length > 0) this.log.info(report, "history partitions maintained");
    return report;
  }

  /** Drops the partitions of `table` whose whole month ends before `cutoff`. */
  private async dropPast(table: string, cutoff: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
      [table],
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const match = /_y(\d{4})m(\d{2})$/.exec(name);
      if (!match) continue; // the default partition
      const end = Date.UTC(Number(match[1]), Number(match[2]), 1); // first instant of the next month
      if (end > cutoff) continue;
      await withTransaction(this.pool, async (db) => {
        await db.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        await db.query(`DROP TABLE IF EXISTS "${name}"`);
      });
      dropped.push(name);
    }
    return dropped;
  }
}

/**
 * Rollup partitions of months that have ended get an index covering what charts read, so a chart
 * over them is an index-only scan rather than one heap page per bucket (rows of one series are
 * spread over the whole month's heap). Only ended months: there a rollup row is rarely updated
 * again, while in the current month an index on the updated columns would stop every update from
 * being a HOT update. Built CONCURRENTLY, so late points into that month are not held up.
 */
export async function coverClosedMonths(pool: Pool, now = Date.now()): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent IN ('telemetry_5m'::regclass, 'telemetry_1h'::regclass) AND c.relname ~ '_y[0-9]{4}m[0-9]{2}$'
        AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid WHERE ic.relname = c.relname || '_covering' AND x.indisvalid)
      ORDER BY 1`,
  );
  const covered: string[] = [];
  for (const { name } of rows) {
    const match = /_y(\d{4})m(\d{2})$/.exec(name)!;
    if (Date.UTC(Number(match[1]), Number(match[2]), 1) > now) continue; // the month has not ended
    // A build that failed half-way leaves an invalid index of that name: it goes first.
    await pool.query(`DROP INDEX CONCURRENTLY IF EXISTS "${name}_covering"`);
    await pool.query(`CREATE INDEX CONCURRENTLY "${name}_covering" ON "${name}" (series_id, bucket) INCLUDE (n, nn, sum, min, max)`);
    await pool.query(`VACUUM (ANALYZE) "${name}"`); // the visibility map that lets index-only scans skip the heap
    covered.push(name);
  }
  return covered;
}

const partitionSuffix = (month: string) => `y${month.slice(0, 4)}m${month.slice(5, 7)}`;
