import type { JsonValue } from "../../platform/json.js";
import type { DeviceDirectory } from "../devices/device-directory.service.js";
import type { DeviceStateData } from "./device-state.model.js";
import type { DeviceStateService } from "./device-state.service.js";
import type { DeviceService } from "../devices/device.service.js";
import { badInput, notFound } from "../../platform/errors.js";
import { validateReportData, type ReportLimits } from "./report-validation.js";

/**
 * The app's side of device state: ownership first, then the command, through the same state
 * service the firmware endpoints use. Widgets' switches build on this.
 */
export class ControlService {
  constructor(
    private readonly devices: DeviceService,
    private readonly directory: DeviceDirectory,
    private readonly state: DeviceStateService,
    private readonly limits: ReportLimits,
  ) {}

  /** All or nothing: one id that is unknown or someone else's fails the call before anything is applied. */
  async setDevicesState(ownerId: string, deviceIds: readonly string[], desired: Record<string, JsonValue>): Promise<DeviceStateData[]> {
    if (deviceIds.length === 0) throw badInput("deviceIds is empty");
    if (deviceIds.length > 500) throw badInput("at most 500 devices per call");
    const owned = await this.devices.findOwned(ownerId, deviceIds);
    if (owned.size !== new Set(deviceIds).size || deviceIds.some((id) => !owned.has(id))) throw notFound("device");
    const values = validateReportData(desired, this.limits, "desired");
    if (Object.keys(values).length === 0) throw badInput("desired is empty: name at least one key");
    const infos = await Promise.all(deviceIds.map(async (id) => (await this.directory.findById(id)) ?? Promise.reject(notFound("device"))));
    // Submitted together, so they are committed in one transaction.
    const at = Date.now();
    return Promise.all(infos.map((info) => this.state.setDesired(info, values, at)));
  }
}
