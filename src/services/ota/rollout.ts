import type { Pool, PoolClient } from "pg";
import { ReleaseDeviceState, ReleaseStatus } from "../../entities/release.entity.js";
import type { JobQueue } from "../../platform/jobs.js";
import { FAILURES, IN_FLIGHT, TICK_TASK, type OfferedImage, type OtaEffects } from "./ota-effects.js";

interface Locked {
  id: string;
  owner_id: string;
  status: ReleaseStatus;
  rollout_percent: number;
  max_per_minute: number;
  abort_failure_percent: number;
  min_finished: number;
  title: string;
  version: string;
  size: number;
  sha256: string;
  md5: string;
}

/** What a tick decided, done after its commit. */
interface Outcome {
  release: Locked;
  timedOut: string[];
  offered: string[];
  /** Aborted: the standing offers to withdraw. Otherwise: offers a crash lost, to set again. */
  inFlight: string[];
  ended?: { status: ReleaseStatus; counts: Record<string, number> };
  next?: Date;
}

const LOCK = `SELECT r.id, r.owner_id, r.status, r.rollout_percent, r.max_per_minute, r.abort_failure_percent, r.min_finished,
    f.title, f.version, f.size, f.sha256, f.md5
   FROM releases r JOIN firmwares f ON f.id = r.firmware_id WHERE r.id = $1 FOR UPDATE OF r`;

/**
 * In-flight devices, and whether their offer is missing from their stored state although it was made
 * a while ago (the process died between the commit and the offer). The grace keeps a tick of another
 * process from repeating an offer that is being written right now.
 */
const LOST = `SELECT device_id, missing AND stale AS lost, CASE WHEN missing AND NOT stale THEN updated_at + interval '30 seconds' END AS recheck
   FROM (SELECT rd.device_id, rd.updated_at, rd.updated_at < now() - interval '30 seconds' AS stale,
                (ds.desired -> 'ota' -> 'value' ->> 'release') IS DISTINCT FROM rd.release_id::text AS missing
           FROM release_devices rd LEFT JOIN device_state ds ON ds.device_id = rd.device_id
          WHERE rd.release_id = $1 AND rd.state = ANY($2)) f`;

/**
 * The staged rollout of one release, as a durable job ("tick") that runs when something may have
 * changed (created, resumed, a device finished) and when the next offer or timeout is due. A tick
 * locks the release row, so ticks of one release never overlap in any process, and every step is a
 * conditional UPDATE: a device leaves PENDING once, so it is offered once, across restarts too.
 */
export class Rollout {
  constructor(
    private readonly pool: Pool,
    private readonly effects: OtaEffects,
    private readonly timeoutMs: number,
    jobs: JobQueue,
  ) {
    jobs.register(TICK_TASK, (payload) => this.tick((payload as { releaseId: string }).releaseId));
  }

  async tick(releaseId: string): Promise<void> {
    const client = await this.pool.connect();
    let outcome: Outcome | undefined;
    try {
      await client.query("BEGIN");
      outcome = await this.decide(client, releaseId);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (outcome) await this.apply(outcome);
  }

  private async decide(client: PoolClient, releaseId: string): Promise<Outcome | undefined> {
    const release = (await client.query<Locked>(LOCK, [releaseId])).rows[0];
    if (!release || release.status !== ReleaseStatus.ACTIVE) return undefined;
    const timedOut = await client.query<{ device_id: string }>(
      `UPDATE release_devices SET state = 'TIMED_OUT', error = $2, updated_at = now()
        WHERE release_id = $1 AND state = ANY($3) AND expires_at <= now() RETURNING device_id`,
      [releaseId, `no success within ${Math.round(this.timeoutMs / 1000)} s of the offer`, IN_FLIGHT],
    );
    const count = await this.counts(client, releaseId);
    const outcome: Outcome = { release, timedOut: timedOut.rows.map((r) => r.device_id), offered: [], inFlight: [] };
    if (count.finished >= release.min_finished && count.failures * 100 >= release.abort_failure_percent * count.finished) {
      outcome.ended = { status: ReleaseStatus.ABORTED, counts: count };
      outcome.inFlight = await this.end(client, releaseId, ReleaseStatus.ABORTED);
      return outcome;
    }
    // The first stage is rolloutPercent of the targets; each success lets one more device follow.
    const stage = Math.max(1, Math.ceil((count.targeted * release.rollout_percent) / 100));
    const slots = stage + count.updated - (count.targeted - count.pending);
    const rate = release.max_per_minute - count.recent;
    const n = Math.max(0, Math.min(slots, rate, count.pending));
    if (n > 0) {
      const offered = await client.query<{ device_id: string }>(
        `UPDATE release_devices rd SET state = 'OFFERED', offered_at = now(), expires_at = now() + make_interval(secs => $3), updated_at = now()
          FROM (SELECT device_id FROM release_devices WHERE release_id = $1 AND state = 'PENDING' ORDER BY rank LIMIT $2) pick
         WHERE rd.release_id = $1 AND rd.device_id = pick.device_id AND rd.state = 'PENDING' RETURNING rd.device_id`,
        [releaseId, n, this.timeoutMs / 1000],
      );
      outcome.offered = offered.rows.map((r) => r.device_id);
    }
    const { rows: flying } = await client.query<{ device_id: string; lost: boolean; recheck: Date | null }>(LOST, [releaseId, IN_FLIGHT]);
    outcome.inFlight = flying.filter((r) => r.lost).map((r) => r.device_id);
    if (count.pending - outcome.offered.length === 0 && flying.length === 0) {
      outcome.ended = { status: ReleaseStatus.COMPLETED, counts: count };
      await this.end(client, releaseId, ReleaseStatus.COMPLETED);
      return outcome;
    }
    const due = await this.nextDue(client, releaseId, count.pending - outcome.offered.length > 0 && slots > n);
    // A missing offer too recent to repeat is looked at again once it is not (this tick's own are written next).
    const fresh = new Set(outcome.offered);
    const rechecks = flying.flatMap((r) => (r.recheck && !fresh.has(r.device_id) ? [r.recheck.getTime() + 50] : []));
    const next = Math.min(due?.getTime() ?? Number.POSITIVE_INFINITY, ...rechecks);
    if (Number.isFinite(next)) outcome.next = new Date(next);
    return outcome;
  }

  /** The next offer that the per-minute limit holds back, or the next timeout. */
  private async nextDue(client: PoolClient, releaseId: string, waitingForRate: boolean): Promise<Date | undefined> {
    const { rows } = await client.query<{ rate: Date | null; expiry: Date | null }>(
      `SELECT (SELECT min(offered_at) + interval '60 seconds' FROM release_devices WHERE release_id = $1 AND offered_at > now() - interval '60 seconds') AS rate,
              (SELECT min(expires_at) FROM release_devices WHERE release_id = $1 AND state = ANY($2)) AS expiry`,
      [releaseId, IN_FLIGHT],
    );
    const due = [waitingForRate ? rows[0]?.rate : null, rows[0]?.expiry].filter((d): d is Date => d instanceof Date).map((d) => d.getTime());
    return due.length > 0 ? new Date(Math.min(...due) + 50) : undefined;
  }

  private async counts(client: PoolClient, releaseId: string) {
    const { rows } = await client.query<{ state: ReleaseDeviceState; n: number; recent: number }>(
      `SELECT state, count(*)::int AS n, count(*) FILTER (WHERE offered_at > now() - interval '60 seconds')::int AS recent
         FROM release_devices WHERE release_id = $1 GROUP BY state`,
      [releaseId],
    );
    const by = (states: readonly string[]) => rows.filter((r) => states.includes(r.state)).reduce((sum, r) => sum + r.n, 0);
    const failures = by(FAILURES);
    const updated = by([ReleaseDeviceState.UPDATED]);
    return {
      targeted: by(Object.values(ReleaseDeviceState)),
      pending: by([ReleaseDeviceState.PENDING]),
      updated,
      failures,
      finished: updated + failures,
      recent: rows.reduce((sum, r) => sum + r.recent, 0),
    };
  }

  /** Ends the release (its devices may join another one); returns the devices whose offer stands. */
  private async end(client: PoolClient, releaseId: string, status: ReleaseStatus): Promise<string[]> {
    await client.query(`UPDATE releases SET status = $2, finished_at = now(), updated_at = now() WHERE id = $1`, [releaseId, status]);
    const { rows } = await client.query<{ device_id: string; state: string }>(
      `UPDATE release_devices SET open = false WHERE release_id = $1 RETURNING device_id, state`,
      [releaseId],
    );
    return rows.filter((r) => (IN_FLIGHT as string[]).includes(r.state)).map((r) => r.device_id);
  }

  private async apply(o: Outcome): Promise<void> {
    const { release } = o;
    const image: OfferedImage = { releaseId: release.id, version: release.version, size: release.size, sha256: release.sha256, md5: release.md5 };
    const status = o.ended?.status ?? release.status;
    for (const deviceId of o.timedOut) {
      await this.effects.deviceFinished(release.owner_id, release.id, status, deviceId, ReleaseDeviceState.TIMED_OUT, "timed out", release.version);
    }
    if (o.ended?.status === ReleaseStatus.ABORTED) await this.effects.withdraw(o.inFlight);
    else if (o.offered.length > 0 || o.inFlight.length > 0) await this.offerAll(release, image, o.offered, o.inFlight);
    if (o.ended) await this.effects.releaseEnded(release.owner_id, release.id, o.ended.status, release.title, o.ended.counts);
    if (o.next) await this.effects.kick(release.id, o.next, true);
  }

  /**
   * New offers, with the version each device ran; a device that already runs the release's version
   * is UPDATED at once. Offers that a crash lost are set again: the same offer, not a new one.
   */
  private async offerAll(release: Locked, image: OfferedImage, offered: string[], lost: string[]): Promise<void> {
    const states = await this.effects.states(offered);
    const versionOf = (id: string) => {
      const v = states.get(id)?.reported.fw_version;
      return typeof v === "string" ? v : null;
    };
    const from = Object.fromEntries(offered.map((id) => [id, versionOf(id)]));
    await this.pool.query(
      `UPDATE release_devices rd SET from_version = x.v FROM jsonb_each_text($2::jsonb) x(k, v) WHERE rd.release_id = $1 AND rd.device_id = x.k::uuid`,
      [release.id, JSON.stringify(from)],
    );
    let finished = false;
    const toOffer: string[] = [];
    for (const id of offered) {
      if (versionOf(id) === release.version) {
        const { rowCount } = await this.pool.query(
          `UPDATE release_devices SET state = 'UPDATED', updated_at = now() WHERE release_id = $1 AND device_id = $2 AND state = 'OFFERED'`,
          [release.id, id],
        );
        if (rowCount) {
          finished = true;
          await this.effects.deviceFinished(release.owner_id, release.id, release.status, id, ReleaseDeviceState.UPDATED, null, release.version);
        }
        continue;
      }
      toOffer.push(id);
    }
    // All at once: the offers join one group commit, rather than a commit each (200 devices took 2 s).
    await Promise.all(
      toOffer.map(async (id) => {
        await this.effects.offer(id, image);
        this.effects.published(release.owner_id, release.id, release.status, { deviceId: id, state: ReleaseDeviceState.OFFERED });
      }),
    );
    await Promise.all(lost.map((id) => this.effects.offer(id, image)));
    // A pause or cancel that committed while these offers were being written withdrew what it saw;
    // whatever it could not see yet goes now, so no offer outlives its release.
    const { rows } = await this.pool.query<{ status: string }>(`SELECT status FROM releases WHERE id = $1`, [release.id]);
    if (rows[0]?.status !== ReleaseStatus.ACTIVE) await this.effects.withdraw([...toOffer, ...lost]);
    if (finished) await this.effects.kick(release.id);
  }
}
