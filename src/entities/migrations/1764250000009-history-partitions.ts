import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * History that lasts: keys interned per device (`telemetry_series`), raw points in monthly range
 * partitions (`telemetry_points`), and 5-minute and hourly rollups (`telemetry_5m`, `telemetry_1h`)
 * partitioned the same way, so retention drops whole partitions. `telemetry_ensure_partition` is
 * the one definition of a month's partition, used here and by the maintenance job; strays that
 * landed in a table's default partition move into the month's partition when it is created.
 * Timestamps are UTC months.
 * Existing rows move over, with their rollups computed from them.
 */
export class HistoryPartitions1764250000009 implements MigrationInterface {
  name = "HistoryPartitions1764250000009";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE telemetry_series (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
        key text NOT NULL,
        UNIQUE (device_id, key)
      )`);
    // Column order packs the row: 8 + 8 + 4 bytes, the value only when it is not a number.
    await q.query(`
      CREATE TABLE telemetry_points (
        ts timestamptz NOT NULL,
        num double precision,
        series_id integer NOT NULL,
        val jsonb
      ) PARTITION BY RANGE (ts)`);
    await q.query(`CREATE INDEX telemetry_points_series_ts ON telemetry_points (series_id, ts)`);
    for (const table of ["telemetry_5m", "telemetry_1h"]) {
      // n: points, nn: numeric points (sum, min, max, first, last are over those).
      await q.query(`
        CREATE TABLE ${table} (
          bucket timestamptz NOT NULL,
          series_id integer NOT NULL,
          n integer NOT NULL,
          nn integer NOT NULL,
          sum double precision,
          min double precision,
          max double precision,
          first double precision,
          last double precision,
          first_ts timestamptz,
          last_ts timestamptz,
          PRIMARY KEY (series_id, bucket)
        ) PARTITION BY RANGE (bucket)`);
    }
    for (const table of ["telemetry_points", "telemetry_5m", "telemetry_1h"]) {
      await q.query(`CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT`);
    }
    await q.query(`
      CREATE FUNCTION telemetry_ensure_partition(parent regclass, month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
      DECLARE
        part text := parent::text || '_' || to_char(month, '"y"YYYY"m"MM');
        lo timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'UTC';
        hi timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        col text;
      BEGIN
        IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
        -- Writers wait, briefly: an INSERT that began routing before the ATTACH could otherwise send a
        -- row of this month to the default partition just as its constraint stops allowing it.
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', parent);
        IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
        SELECT a.attname INTO col FROM pg_partitioned_table p
          JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = parent;
        EXECUTE format('CREATE TABLE %I (LIKE %s INCLUDING DEFAULTS)', part, parent);
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       parent::text || '_default', col, col, part) USING lo, hi;
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
        RETURN true;
      END
      $fn$`);

    // Months that hold rows, and the months around now; the maintenance job keeps creating ahead.
    await q.query(`
      SELECT telemetry_ensure_partition(t, m::date)
        FROM unnest(ARRAY['telemetry_points', 'telemetry_5m', 'telemetry_1h']::regclass[]) AS t,
             (SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') AS m FROM telemetry
              UNION SELECT generate_series(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '3 months',
                                           date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months', interval '1 month')) AS months`);
    await q.query(`
      INSERT INTO telemetry_series (device_id, key)
      SELECT DISTINCT t.device_id, t.key FROM telemetry t JOIN devices d ON d.id = t.device_id ORDER BY 1, 2`);
    await q.query(`
      INSERT INTO telemetry_points (ts, num, series_id, val)
      SELECT t.ts, t.num, s.id, t.val FROM telemetry t JOIN telemetry_series s ON s.device_id = t.device_id AND s.key = t.key`);
    for (const [table, width] of [
      ["telemetry_5m", "5 minutes"],
      ["telemetry_1h", "1 hour"],
    ] as const) {
      await q.query(`
        INSERT INTO ${table} (bucket, series_id, n, nn, sum, min, max, first, last, first_ts, last_ts)
        SELECT date_bin('${width}', ts, timestamptz '2000-01-01 00:00:00+00'), series_id, count(*), count(num), sum(num), min(num), max(num),
               (array_agg(num ORDER BY ts) FILTER (WHERE num IS NOT NULL))[1], (array_agg(num ORDER BY ts DESC) FILTER (WHERE num IS NOT NULL))[1],
               min(ts) FILTER (WHERE num IS NOT NULL), max(ts) FILTER (WHERE num IS NOT NULL)
          FROM telemetry_points GROUP BY 1, 2`);
    }
    await q.query(`DROP TABLE telemetry`);
    // The old table's shape, for operators' own queries and reports (read-only).
    await q.query(`
      CREATE VIEW telemetry AS
      SELECT s.device_id, s.key, p.ts, p.num, p.val FROM telemetry_points p JOIN telemetry_series s ON s.id = p.series_id`);
    // Points each device stored on its current UTC day (MAX_POINTS_PER_DAY), kept with its state.
    await q.query(`ALTER TABLE device_state ADD COLUMN points_day integer NOT NULL DEFAULT 0, ADD COLUMN points_today integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE device_state DROP COLUMN points_day, DROP COLUMN points_today`);
    await q.query(`DROP VIEW telemetry`);
    await q.query(`CREATE TABLE telemetry (device_id uuid NOT NULL, key text NOT NULL, ts timestamptz NOT NULL, num double precision, val jsonb)`);
    await q.query(`
      INSERT INTO telemetry (device_id, key, ts, num, val)
      SELECT s.device_id, s.key, p.ts, p.num, p.val FROM telemetry_points p JOIN telemetry_series s ON s.id = p.series_id`);
    await q.query(`CREATE INDEX telemetry_device_key_ts ON telemetry (device_id, key, ts)`);
    await q.query(`DROP TABLE telemetry_points, telemetry_5m, telemetry_1h, telemetry_series`);
    await q.query(`DROP FUNCTION telemetry_ensure_partition(regclass, date)`);
  }
}
