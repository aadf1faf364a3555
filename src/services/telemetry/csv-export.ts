import type { Pool } from "pg";
import type { JsonValue } from "../../platform/json.js";
import { offsetSeconds } from "../../platform/time-zones.js";
import type { HistoryService } from "./history.service.js";

/** Rows per FETCH from the server-side cursor: what the process holds of an export at a time. */
const FETCH_ROWS = 2000;

export interface ExportQuery {
  deviceId: string;
  /** Keys to export; empty: every key of the device. */
  keys: string[];
  from: Date;
  to: Date;
  timeZone: string;
  bucket?: string;
}

/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const csvLine = (fields: string[]) => `${fields.map(csvField).join(",")}\r\n`;

function valueText(value: JsonValue): string {
  if (value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** ISO 8601 in the zone: 2026-03-29T03:00:00.000+02:00. */
export function localIso(ts: number, zone: string): string {
  const offset = offsetSeconds(zone, ts);
  const local = new Date(ts + offset * 1000).toISOString().slice(0, 23);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, "0");
  return `${local}${sign}${hh}:${mm}`;
}

/**
 * A device's history as CSV, streamed: raw points come from a server-side cursor a few thousand
 * rows at a time (key by key, each in time order, so PostgreSQL reads them off the index without
 * sorting), so a year of points never sits in memory; bucketed rows come from the history service
 * (at most 10,000 buckets per key).
 */
export class CsvExport {
  constructor(
    private readonly pool: Pool,
    private readonly history: HistoryService,
  ) {}

  async *rows(q: ExportQuery): AsyncGenerator<string> {
    const keys = q.keys.length > 0 ? q.keys : await this.keysOf(q.deviceId);
    if (q.bucket) {
      yield csvLine(["time", "key", "count", "avg", "min", "max", "sum"]);
      for (const key of keys) {
        const buckets = await this.history.bucketed({ deviceId: q.deviceId, key, from: q.from, to: q.to, bucket: q.bucket, timeZone: q.timeZone });
        yield buckets
          .map((b) =>
            csvLine([localIso(Date.parse(b.ts), q.timeZone), key, String(b.count), ...[b.avg, b.min, b.max, b.sum].map((v) => (v === null ? "" : String(v)))]),
          )
          .join("");
      }
      return;
    }
    yield csvLine(["time", "key", "value"]);
    yield* this.rawRows(q, keys);
  }

  private async keysOf(deviceId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ key: string }>(`SELECT key FROM telemetry_series WHERE device_id = $1 ORDER BY key`, [deviceId]);
    return rows.map((r) => r.key);
  }

  private async *rawRows(q: ExportQuery, keys: string[]): AsyncGenerator<string> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN READ ONLY");
      // One cursor per key: a single series in time order is an index scan over the partitions in order.
      for (const key of keys) {
        await client.query(
          `DECLARE export NO SCROLL CURSOR FOR
           SELECT ts, num, val FROM telemetry_points
            WHERE series_id = (SELECT id FROM telemetry_series WHERE device_id = $1 AND key = $2) AND ts >= $3 AND ts < $4
            ORDER BY ts`,
          [q.deviceId, key, q.from, q.to],
        );
        for (;;) {
          const { rows } = await client.query<{ ts: Date; num: number | null; val: JsonValue | null }>(`FETCH ${FETCH_ROWS} FROM export`);
          if (rows.length === 0) break;
          yield rows.map((r) => csvLine([localIso(r.ts.getTime(), q.timeZone), key, valueText(r.val ?? r.num)])).join("");
        }
        await client.query("CLOSE export");
      }
    } finally {
      // Also where a client that went away mid-export ends up: the read-only transaction just ends.
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
    }
  }
}
