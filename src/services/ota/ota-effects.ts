import type { Logger } from "pino";
import { ReleaseDeviceState, ReleaseStatus } from "../../entities/release.entity.js";
import { Topic, type EventBus } from "../../platform/event-bus.js";
import type { JobQueue } from "../../platform/jobs.js";
import type { JsonValue } from "../../platform/json.js";
import type { DeviceDirectory } from "../devices/device-directory.service.js";
import type { NotificationService } from "../notifications/notification.service.js";
import type { WebhookDeliveryService } from "../automation/webhooks/webhook-delivery.service.js";
import type { DeviceStateData } from "../telemetry/device-state.model.js";
import type { DeviceStateService } from "../telemetry/device-state.service.js";

/** The reserved desired key an update offer travels under. */
export const OTA_KEY = "ota";
export const TICK_TASK = "ota.release.tick";
export const tickKey = (releaseId: string) => `ota-release:${releaseId}`;

/** Offered and not finished. */
export const IN_FLIGHT = [ReleaseDeviceState.OFFERED, ReleaseDeviceState.DOWNLOADING, ReleaseDeviceState.DOWNLOADED, ReleaseDeviceState.UPDATING];
export const FAILURES = [ReleaseDeviceState.FAILED, ReleaseDeviceState.ROLLED_BACK, ReleaseDeviceState.TIMED_OUT];
export const OPEN = [ReleaseStatus.ACTIVE, ReleaseStatus.PAUSED];

export interface OfferedImage {
  releaseId: string;
  version: string;
  size: number;
  sha256: string;
  md5: string;
}

export const offerOf = (image: OfferedImage): Record<string, JsonValue> => ({
  version: image.version,
  size: image.size,
  sha256: image.sha256,
  md5: image.md5,
  url: "/firmware/update",
  release: image.releaseId,
});

export interface OtaDeps {
  readonly bus: EventBus;
  readonly jobs: JobQueue;
  readonly log: Logger;
  readonly state: DeviceStateService;
  readonly directory: DeviceDirectory;
  readonly notifications: NotificationService;
  readonly webhookDeliveries: WebhookDeliveryService;
}

/**
 * What follows a committed change of a release: the offers set or withdrawn in the devices' state,
 * the subscription event, notifications and webhooks. Each change is committed by one conditional
 * UPDATE in one process, and only that process calls these, so each happens once.
 */
export class OtaEffects {
  constructor(private readonly deps: OtaDeps) {}

  /** Runs the release's tick now (or at `runAt`); `keepEarlier` leaves an earlier pending run as it is. */
  async kick(releaseId: string, runAt?: Date, keepEarlier = false): Promise<void> {
    await this.deps.jobs.add(TICK_TASK, { releaseId }, { jobKey: tickKey(releaseId), runAt, preserveRunAt: keepEarlier, maxAttempts: 25 });
  }

  async offer(deviceId: string, image: OfferedImage): Promise<boolean> {
    const device = await this.deps.directory.findById(deviceId);
    if (!device) return false;
    await this.deps.state.setDesired(device, { [OTA_KEY]: offerOf(image) });
    return true;
  }

  /** All at once, so the withdrawals share group commits. */
  async withdraw(deviceIds: readonly string[]): Promise<void> {
    await Promise.all(
      deviceIds.map(async (id) => {
        const device = await this.deps.directory.findById(id);
        if (device) await this.deps.state.withdraw(device, [OTA_KEY]);
      }),
    );
  }

  /** The reported values of devices (memory first). */
  states(deviceIds: readonly string[]): Promise<Map<string, DeviceStateData>> {
    return this.deps.state.getMany(deviceIds);
  }

  published(ownerId: string, releaseId: string, releaseStatus: string, change?: { deviceId: string; state: string; error?: string | null }): void {
    this.deps.bus.publish(Topic.FirmwareUpdateChanged, {
      ownerId,
      releaseId,
      deviceId: change?.deviceId ?? null,
      state: change?.state ?? null,
      error: change?.error ?? null,
      releaseStatus,
      at: new Date().toISOString(),
    });
  }

  /** A device finished: the offer goes, subscribers and webhooks hear of it. */
  async deviceFinished(
    ownerId: string,
    releaseId: string,
    releaseStatus: string,
    deviceId: string,
    state: ReleaseDeviceState,
    error: string | null,
    version: string,
  ) {
    await this.withdraw([deviceId]);
    this.published(ownerId, releaseId, releaseStatus, { deviceId, state, error });
    const event = state === ReleaseDeviceState.UPDATED ? "ota_updated" : "ota_failed";
    const data: Record<string, JsonValue> = { releaseId, deviceId, state, version, ...(error ? { error } : {}) };
    await this.deps.webhookDeliveries.enqueueFor(ownerId, event, data, deviceId);
  }

  async releaseEnded(ownerId: string, releaseId: string, status: ReleaseStatus, title: string, counts: Record<string, number>): Promise<void> {
    this.published(ownerId, releaseId, status);
    const data = { releaseId, status, ...counts };
    if (status === ReleaseStatus.ABORTED) {
      const message = `${counts.failures} of ${counts.finished} finished devices failed; no further devices are offered the update.`;
      await this.deps.notifications.notify(ownerId, { type: "release_aborted", title: `Release of ${title} aborted`, message, data });
      await this.deps.webhookDeliveries.enqueueFor(ownerId, "release_aborted", data, null);
    } else if (status === ReleaseStatus.COMPLETED) {
      const message = `${counts.updated} of ${counts.targeted} devices updated, ${counts.failures} failed.`;
      await this.deps.notifications.notify(ownerId, { type: "release_completed", title: `Release of ${title} completed`, message, data });
    }
  }

  warn(error: unknown, releaseId: string, what: string): void {
    this.deps.log.warn({ err: error, releaseId }, what);
  }
}
