import type { Pool } from "pg";
import type { DataSource } from "typeorm";
import { Release, ReleaseCounts, ReleaseDevice, ReleaseStatus } from "../../entities/release.entity.js";
import { AppError, badInput, notFound } from "../../platform/errors.js";
import { UUID_RE } from "../../platform/ids.js";
import type { FirmwareStore } from "./firmware.store.js";
import { IN_FLIGHT, OPEN, TICK_TASK, tickKey, type OtaEffects } from "./ota-effects.js";

export interface NewRelease {
  firmwareId: string;
  deviceIds: string[];
  rolloutPercent?: number | null;
  maxPerMinute?: number | null;
  abortFailurePercent?: number | null;
  minFinished?: number | null;
}

const MAX_DEVICES = 10_000;
export const releaseNotFound = () => new AppError("NOT_FOUND", "Release not found");

function whole(value: number | null | undefined, name: string, fallback: number, min: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) throw badInput(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** Releases of the user's firmware to the user's devices; the rollout itself is Rollout's (jobs). */
export class ReleaseService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: Pool,
    private readonly firmwares: FirmwareStore,
    private readonly effects: OtaEffects,
    private readonly timeoutMs: number,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Release);
  }

  /** Ownership first (another user's firmware or device is NOT_FOUND), then the numbers. */
  async create(ownerId: string, input: NewRelease): Promise<Release> {
    const firmware = await this.firmwares.requireOwned(ownerId, input.firmwareId);
    const ids = [...new Set(input.deviceIds.map((id) => id.toLowerCase()))];
    if (ids.some((id) => !UUID_RE.test(id))) throw notFound("device");
    const owned = await this.pool.query<{ id: string }>(`SELECT id FROM devices WHERE owner_id = $1 AND id = ANY($2::uuid[])`, [ownerId, ids]);
    if (owned.rowCount !== ids.length) throw notFound("device");
    if (ids.length === 0) throw badInput("deviceIds must name at least one device");
    if (ids.length > MAX_DEVICES) throw badInput(`a release targets at most ${MAX_DEVICES} devices`);
    const settings = {
      rolloutPercent: whole(input.rolloutPercent, "rolloutPercent", 100, 1, 100),
      maxPerMinute: whole(input.maxPerMinute, "maxPerMinute", 60, 1, 100_000),
      abortFailurePercent: whole(input.abortFailurePercent, "abortFailurePercent", 20, 1, 100),
      minFinished: whole(input.minFinished, "minFinished", 1, 1, MAX_DEVICES),
    };
    const id = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(m.create(Release, { ownerId, firmwareId: firmware.id, status: ReleaseStatus.ACTIVE, ...settings, finishedAt: null }));
      // The order of the rollout: a hash of release and device, so it is fixed and spreads over the fleet.
      const busy: Array<{ device_id: string }> = await m.query(
        `INSERT INTO release_devices (release_id, device_id, rank)
         SELECT $1::uuid, d, md5($1::text || d::text) FROM unnest($2::uuid[]) d
         ON CONFLICT (device_id) WHERE open DO NOTHING RETURNING device_id`,
        [saved.id, ids],
      );
      if (busy.length !== ids.length) {
        const taken = ids.filter((d) => !busy.some((b) => b.device_id === d));
        throw new AppError("CONFLICT", `Device ${taken[0]} is already in an active or paused release`);
      }
      // The release and its first tick commit together: no release without its job.
      await m.query(`SELECT graphile_worker.add_job($1, json_build_object('releaseId', $2::text), job_key := $3, max_attempts := 25)`, [
        TICK_TASK,
        saved.id,
        tickKey(saved.id),
      ]);
      return saved.id;
    });
    const release = (await this.repo.findOneBy({ id }))!;
    this.effects.published(ownerId, id, release.status);
    return release;
  }

  list(ownerId: string): Promise<Release[]> {
    return this.repo.find({ where: { ownerId }, order: { createdAt: "DESC", id: "ASC" } });
  }

  async requireOwned(ownerId: string, id: string): Promise<Release> {
    const release = UUID_RE.test(id) ? await this.repo.findOneBy({ id: id.toLowerCase(), ownerId }) : null;
    if (!release) throw releaseNotFound();
    return release;
  }

  /** Pausing withdraws the standing offers; resuming sets them again, with a fresh timeout. */
  async pause(ownerId: string, id: string): Promise<Release> {
    const release = await this.transition(ownerId, id, [ReleaseStatus.ACTIVE], ReleaseStatus.PAUSED);
    await this.effects.withdraw(await this.inFlight(release.id));
    return release;
  }

  async resume(ownerId: string, id: string): Promise<Release> {
    const release = await this.transition(ownerId, id, [ReleaseStatus.PAUSED], ReleaseStatus.ACTIVE, async (releaseId) => {
      await this.pool.query(
        `UPDATE release_devices SET expires_at = now() + make_interval(secs => $3), updated_at = now() WHERE release_id = $1 AND state = ANY($2)`,
        [releaseId, IN_FLIGHT, this.timeoutMs / 1000],
      );
    });
    const image = await this.firmwares.requireOwned(ownerId, release.firmwareId);
    const offer = { releaseId: release.id, version: image.version, size: image.size, sha256: image.sha256, md5: image.md5 };
    for (const deviceId of await this.inFlight(release.id)) await this.effects.offer(deviceId, offer);
    await this.effects.kick(release.id);
    return release;
  }

  async cancel(ownerId: string, id: string): Promise<Release> {
    const release = await this.transition(ownerId, id, OPEN, ReleaseStatus.CANCELLED);
    const { rows } = await this.pool.query<{ device_id: string; state: string }>(
      `UPDATE release_devices SET open = false WHERE release_id = $1 RETURNING device_id, state`,
      [release.id],
    );
    await this.effects.withdraw(rows.filter((r) => (IN_FLIGHT as string[]).includes(r.state)).map((r) => r.device_id));
    return release;
  }

  /** One conditional UPDATE, so a pause racing the rollout's own end (or another call) has one winner. */
  private async transition(
    ownerId: string,
    id: string,
    from: ReleaseStatus[],
    to: ReleaseStatus,
    also?: (releaseId: string) => Promise<void>,
  ): Promise<Release> {
    const release = await this.requireOwned(ownerId, id);
    const ended = to === ReleaseStatus.CANCELLED ? ", finished_at = now()" : "";
    const { rowCount } = await this.pool.query(`UPDATE releases SET status = $2, updated_at = now()${ended} WHERE id = $1 AND status = ANY($3)`, [
      release.id,
      to,
      from,
    ]);
    if (!rowCount) throw new AppError("CONFLICT", `The release is ${release.status}; only a release that is ${from.join(" or ")} can become ${to}`);
    await also?.(release.id);
    const changed = (await this.repo.findOneBy({ id: release.id }))!;
    this.effects.published(ownerId, release.id, changed.status);
    return changed;
  }

  private async inFlight(releaseId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ device_id: string }>(`SELECT device_id FROM release_devices WHERE release_id = $1 AND state = ANY($2)`, [
      releaseId,
      IN_FLIGHT,
    ]);
    return rows.map((r) => r.device_id);
  }

  /** Counts of many releases in one query. */
  async countsOf(releaseIds: readonly string[]): Promise<Map<string, ReleaseCounts>> {
    const { rows } = await this.pool.query<{ release_id: string; state: string; n: number }>(
      `SELECT release_id, state, count(*)::int AS n FROM release_devices WHERE release_id = ANY($1::uuid[]) GROUP BY release_id, state`,
      [releaseIds],
    );
    const out = new Map<string, ReleaseCounts>();
    for (const id of releaseIds) out.set(id, { targeted: 0, offered: 0, downloading: 0, updated: 0, failed: 0, rolledBack: 0, timedOut: 0 });
    for (const { release_id, state, n } of rows) {
      const c = out.get(release_id)!;
      c.targeted += n;
      if ((IN_FLIGHT as string[]).includes(state)) c.offered += n;
      if (state === "DOWNLOADING" || state === "DOWNLOADED" || state === "UPDATING") c.downloading += n;
      if (state === "UPDATED") c.updated += n;
      if (state === "FAILED") c.failed += n;
      if (state === "ROLLED_BACK") c.rolledBack += n;
      if (state === "TIMED_OUT") c.timedOut += n;
    }
    return out;
  }

  /** The release's devices in rollout order; `after` is the last device id of the previous page. */
  async devices(releaseId: string, first: number, after: string | null | undefined): Promise<ReleaseDevice[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badInput("first must be from 1 to 500");
    if (after != null && !UUID_RE.test(after)) throw badInput("after must be a device id of the previous page");
    const { rows } = await this.pool.query<ReleaseDevice>(
      `SELECT device_id AS "deviceId", state, from_version AS "fromVersion", error, updated_at AS "updatedAt" FROM release_devices
        WHERE release_id = $1 AND ($3::uuid IS NULL OR rank > (SELECT rank FROM release_devices WHERE release_id = $1 AND device_id = $3))
        ORDER BY rank LIMIT $2`,
      [releaseId, first, after ?? null],
    );
    return rows;
  }

  /** The image a device is offered now, if any (GET /firmware/update). */
  async offerFor(
    deviceId: string,
  ): Promise<{ releaseId: string; firmwareId: string; version: string; size: number; sha256: string; md5: string; state: string } | undefined> {
    const { rows } = await this.pool.query(
      `SELECT rd.release_id AS "releaseId", f.id AS "firmwareId", f.version, f.size, f.sha256, f.md5, rd.state
         FROM release_devices rd JOIN releases r ON r.id = rd.release_id JOIN firmwares f ON f.id = r.firmware_id
        WHERE rd.device_id = $1 AND rd.open AND r.status = 'ACTIVE' AND rd.state = ANY($2)`,
      [deviceId, IN_FLIGHT],
    );
    return rows[0];
  }

  /** A download started: OFFERED becomes DOWNLOADING (only from OFFERED, so once). */
  async downloading(releaseId: string, deviceId: string, ownerId: string): Promise<void> {
    const { rowCount } = await this.pool.query(
      `UPDATE release_devices SET state = 'DOWNLOADING', updated_at = now() WHERE release_id = $1 AND device_id = $2 AND state = 'OFFERED'`,
      [releaseId, deviceId],
    );
    if (rowCount) this.effects.published(ownerId, releaseId, ReleaseStatus.ACTIVE, { deviceId, state: "DOWNLOADING" });
  }
}
