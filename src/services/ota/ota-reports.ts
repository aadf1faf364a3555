import type { Pool } from "pg";
import { ReleaseDeviceState } from "../../entities/release.entity.js";
import type { JsonValue } from "../../platform/json.js";
import { IN_FLIGHT, type OtaEffects } from "./ota-effects.js";

interface Membership {
  release_id: string;
  owner_id: string;
  status: string;
  state: ReleaseDeviceState;
  updating_seen: boolean;
  version: string;
}

const MEMBERSHIP = `SELECT rd.release_id, r.owner_id, r.status, rd.state, rd.updating_seen, f.version
   FROM release_devices rd JOIN releases r ON r.id = rd.release_id JOIN firmwares f ON f.id = r.firmware_id
  WHERE rd.device_id = $1 AND rd.open`;

const STEPS: Record<string, ReleaseDeviceState> = {
  DOWNLOADING: ReleaseDeviceState.DOWNLOADING,
  DOWNLOADED: ReleaseDeviceState.DOWNLOADED,
  UPDATING: ReleaseDeviceState.UPDATING,
};

/** What a report means for the device's place in its release (docs/ota.md, "Device reports"). */
export function interpret(
  m: Pick<Membership, "updating_seen" | "version">,
  data: Record<string, JsonValue>,
): { state: ReleaseDeviceState; error: string | null } | undefined {
  const version = typeof data.fw_version === "string" ? data.fw_version : undefined;
  const step = typeof data.fw_state === "string" ? data.fw_state.toUpperCase() : undefined;
  if (version === m.version) return { state: ReleaseDeviceState.UPDATED, error: null };
  if (step === "FAILED") {
    const reason = typeof data.fw_error === "string" && data.fw_error.length > 0 ? data.fw_error.slice(0, 500) : "the device reported FAILED";
    return { state: ReleaseDeviceState.FAILED, error: reason };
  }
  if (step !== undefined && STEPS[step]) return { state: STEPS[step], error: null };
  if (version !== undefined && m.updating_seen) return { state: ReleaseDeviceState.ROLLED_BACK, error: `the device came back with version ${version}` };
  return undefined;
}

/**
 * Reports of fw_version / fw_state move a device through its release. Each report is interpreted by
 * the process that stored it only, and each move is an UPDATE conditional on the state it was read
 * in, so two reports racing cannot both finish a device.
 */
export class OtaReports {
  constructor(
    private readonly pool: Pool,
    private readonly effects: OtaEffects,
  ) {}

  async onReport(deviceId: string, data: Record<string, JsonValue>): Promise<void> {
    if (!("fw_version" in data) && !("fw_state" in data)) return;
    const m = (await this.pool.query<Membership>(MEMBERSHIP, [deviceId])).rows[0];
    if (!m || !IN_FLIGHT.includes(m.state)) return;
    const next = interpret(m, data);
    if (!next || next.state === m.state) return;
    const { rowCount } = await this.pool.query(
      `UPDATE release_devices SET state = $3, error = $4, updating_seen = updating_seen OR $3 = 'UPDATING', updated_at = now()
        WHERE release_id = $1 AND device_id = $2 AND state = $5 AND open`,
      [m.release_id, deviceId, next.state, next.error, m.state],
    );
    if (!rowCount) return; // another report moved it first
    if (IN_FLIGHT.includes(next.state)) {
      this.effects.published(m.owner_id, m.release_id, m.status, { deviceId, state: next.state });
      return;
    }
    await this.effects.deviceFinished(m.owner_id, m.release_id, m.status, deviceId, next.state, next.error, m.version);
    await this.effects.kick(m.release_id); // the next devices follow, or the abort threshold is checked
  }
}
