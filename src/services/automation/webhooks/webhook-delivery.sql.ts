/** The hand-written SQL of webhook deliveries (jobs are queued in the same statement as the attempt). */

export const LOAD_DELIVERY = `SELECT d.payload, d.status, d.attempts, w.id AS webhook_id, w.user_id, w.url, w.active, w.secret_sealed
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1`;

/** A delivery of a disabled webhook ends without being sent. */
export const FAIL_DISABLED = `UPDATE webhook_deliveries SET status = 'failed', last_error = $3, next_attempt_at = NULL, finished_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'pending' AND attempts = $2`;

/** Stores an attempt and, when another is due, queues its job: one statement, so neither is lost alone. */
export const RECORD_ATTEMPT = `WITH u AS (
         UPDATE webhook_deliveries
            SET status = $3, attempts = attempts + 1, attempt_log = attempt_log || $4::jsonb,
                last_status_code = $5, last_error = $6, last_duration_ms = $7, next_attempt_at = $8,
                finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END, updated_at = now()
          WHERE id = $1 AND status = 'pending' AND attempts = $2
         RETURNING id, attempts
       )
       SELECT CASE WHEN $8::timestamptz IS NULL THEN NULL ELSE
         (graphile_worker.add_job($9, json_build_object('deliveryId', u.id, 'attempt', u.attempts), run_at := $8::timestamptz, max_attempts := $10)).id END AS job
         FROM u`;

/** Disables the webhook when its last $2 finished deliveries since it was last changed all failed. */
export const DISABLE_IF_FAILING = `UPDATE webhooks w SET active = false, updated_at = now()
        WHERE w.id = $1 AND w.active
          AND (SELECT count(*) FROM (
                 SELECT d.status FROM webhook_deliveries d
                  WHERE d.webhook_id = w.id AND d.finished_at IS NOT NULL AND d.finished_at >= w.updated_at
                  ORDER BY d.finished_at DESC LIMIT $2) recent
                WHERE recent.status = 'failed') >= $2
        RETURNING w.user_id, w.url`;

/** Retention, in batches of $2. */
export const PRUNE = `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`;
