/** The StateWriter's statements. */

// One statement per batch, whatever its size: rows travel as one JSON document.
export const UPDATE_STATE = `
  UPDATE device_state s
     SET reported = u.reported, reported_ts = u.reported_ts,
         reported_at = to_timestamp(u.reported_at / 1000.0), desired = u.desired, version = u.version
    FROM jsonb_to_recordset($1::jsonb)
         AS u(id uuid, reported jsonb, reported_ts jsonb, reported_at double precision, desired jsonb, version int, base int)
   WHERE s.device_id = u.id AND s.version = u.base
RETURNING s.device_id`;

export const INSERT_HISTORY = `
  INSERT INTO telemetry (device_id, key, ts, num, val)
  SELECT d, k, to_timestamp(t / 1000.0), n, v
    FROM jsonb_to_recordset($1::jsonb) AS x(d uuid, k text, t double precision, n double precision, v jsonb)`;
