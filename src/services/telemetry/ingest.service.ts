import { badInput, invalidDeviceToken, notFound } from "../../platform/errors.js";
import type { DeviceDirectory, DeviceInfo } from "../devices/device-directory.service.js";
import type { PresenceService, Transport } from "../devices/presence.service.js";
import { mergedOf, type Values } from "./device-state.model.js";
import type { DeviceStateService } from "./device-state.service.js";
import { LONG_POLL_MAX_SECONDS, type LongPollService } from "./long-poll.service.js";
import { validateReportData, type ReportLimits } from "./report-validation.js";
import { batchRecordsOf, reportTimeOf } from "./report-time.js";
import type { HistoryConfig } from "../../platform/config/history.js";

/** What a transport answers after a report. */
export interface ReportReceipt {
  readonly deviceId: string;
  /** The merged state after the report: what the device should apply. */
  readonly merged: Values;
  /** Server time of the report, epoch ms. */
  readonly at: number;
  /** Records stored (1 for a report). */
  readonly accepted: number;
}

/** What a transport answers to a poll. */
export interface PollAnswer {
  readonly deviceId: string;
  readonly merged: Values;
  /** When the device last reported, epoch ms; null before its first report. */
  readonly reportedAt: number | null;
}

/**
 * The one entry of every device transport (HTTP V2 and legacy, later MQTT): an authenticated device
 * and a report, or a poll with an optional wait. Validation, the state model, history, presence and
 * every event (subscriptions, rules, webhooks listen to them) happen behind it; a transport only
 * parses its own framing, calls this and shapes the answer.
 */
export class IngestService {
  constructor(
    private readonly directory: DeviceDirectory,
    private readonly state: DeviceStateService,
    private readonly presence: PresenceService,
    private readonly longPoll: LongPollService,
    private readonly limits: ReportLimits,
    private readonly history: Pick<HistoryConfig, "rawRetentionDays" | "maxBatchRecords">,
  ) {}

  /** The device a token belongs to; undefined for an unknown token. */
  authenticate(token: string | undefined): Promise<DeviceInfo | undefined> {
    return token === undefined ? Promise.resolve(undefined) : this.directory.findByToken(token);
  }

  /**
   * The device a request names, checked against the device its token authenticated: an unknown id
   * is NOT_FOUND, a token of another device (or none) is FORBIDDEN.
   */
  async authorize(deviceId: string, device: DeviceInfo | undefined): Promise<DeviceInfo> {
    if (!(await this.directory.findById(deviceId))) throw notFound("device");
    if (!device || device.id !== deviceId.toLowerCase()) throw invalidDeviceToken();
    return device;
  }

  /** Whether the device still exists with the token it authenticated with (for held sessions). */
  async stillValid(device: DeviceInfo): Promise<boolean> {
    return (await this.directory.findById(device.id))?.tokenHash === device.tokenHash;
  }

  /**
   * Validates and stores a report durably; resolves once it is committed. `ts` is the device's time
   * of the values when it sends one (epoch ms or ISO 8601), else the server's time is theirs.
   */
  async report(device: DeviceInfo | undefined, data: unknown, transport: Transport = "http", ts?: unknown): Promise<ReportReceipt> {
    if (!device) throw invalidDeviceToken();
    const at = Date.now();
    const time = reportTimeOf(ts, at, this.history);
    const values = validateReportData(data, this.limits);
    const state = await this.state.report(device, values, at, time);
    this.presence.touch(device, at, transport);
    return { deviceId: device.id, merged: mergedOf(state), at, accepted: 1 };
  }

  /** A backfill batch of `{ts, data}` records: every record valid and stored in one commit, or none. */
  async reportBatch(device: DeviceInfo | undefined, records: unknown, transport: Transport = "http"): Promise<ReportReceipt> {
    if (!device) throw invalidDeviceToken();
    const at = Date.now();
    const valid = batchRecordsOf(records, at, this.limits, this.history);
    const state = await this.state.reportRecords(device, valid, at);
    this.presence.touch(device, at, transport);
    return { deviceId: device.id, merged: mergedOf(state), at, accepted: valid.length };
  }

  /**
   * The merged state for a polling device. With `waitSeconds` > 0 (at most LONG_POLL_MAX_SECONDS)
   * the answer is held until a command arrives, the wait ends or `aborted` fires.
   */
  async poll(device: DeviceInfo | undefined, waitSeconds: number, aborted?: AbortSignal): Promise<PollAnswer> {
    if (!device) throw invalidDeviceToken();
    if (!Number.isInteger(waitSeconds) || waitSeconds < 0) throw badInput("wait must be a whole number of seconds");
    this.presence.touch(device);
    const wait = Math.min(waitSeconds, LONG_POLL_MAX_SECONDS);
    let state;
    if (wait === 0 || !aborted) state = await this.state.poll(device);
    else {
      state = await this.longPoll.poll(device, wait, aborted);
      this.presence.touch(device); // a held poll is contact too, at its end
    }
    return { deviceId: device.id, merged: mergedOf(state), reportedAt: state.reportedAt };
  }
}
