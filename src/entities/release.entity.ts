import { Column, Entity } from "typeorm";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar } from "../schema/scalars.js";
import { BaseEntity } from "./base.entity.js";

export enum ReleaseStatus {
  ACTIVE = "ACTIVE",
  PAUSED = "PAUSED",
  COMPLETED = "COMPLETED",
  ABORTED = "ABORTED",
  CANCELLED = "CANCELLED",
}
registerEnumType(ReleaseStatus, { name: "ReleaseStatus", description: "ACTIVE and PAUSED releases are open; the others have ended" });

/** Where one device is in a release. DOWNLOADED and UPDATING are what the device reported on its way. */
export enum ReleaseDeviceState {
  PENDING = "PENDING",
  OFFERED = "OFFERED",
  DOWNLOADING = "DOWNLOADING",
  DOWNLOADED = "DOWNLOADED",
  UPDATING = "UPDATING",
  UPDATED = "UPDATED",
  FAILED = "FAILED",
  ROLLED_BACK = "ROLLED_BACK",
  TIMED_OUT = "TIMED_OUT",
}
registerEnumType(ReleaseDeviceState, { name: "ReleaseDeviceState", description: "UPDATED is success; FAILED, ROLLED_BACK and TIMED_OUT are failures" });

/** A firmware rolled out to some of the user's devices, in stages, with an abort threshold. */
@ObjectType()
@Entity({ name: "releases" })
export class Release extends BaseEntity {
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Column({ type: "uuid", name: "firmware_id" })
  firmwareId: string;

  @Field(() => ReleaseStatus)
  @Column({ type: "text" })
  status: ReleaseStatus;

  @Field(() => Int, { description: "share of the devices offered first (the rest follow as these succeed)" })
  @Column({ type: "integer", name: "rollout_percent" })
  rolloutPercent: number;

  @Field(() => Int, { description: "offers per minute at most" })
  @Column({ type: "integer", name: "max_per_minute" })
  maxPerMinute: number;

  @Field(() => Int, { description: "failure share (percent of finished devices) that aborts the release" })
  @Column({ type: "integer", name: "abort_failure_percent" })
  abortFailurePercent: number;

  @Field(() => Int, { description: "finished devices needed before the abort threshold applies" })
  @Column({ type: "integer", name: "min_finished" })
  minFinished: number;

  @Field(() => DateTimeScalar, { nullable: true, description: "when it completed, was aborted or cancelled" })
  @Column({ type: "timestamptz", name: "finished_at", nullable: true })
  finishedAt: Date | null;
}

/** How many of a release's devices are in each state. */
@ObjectType()
export class ReleaseCounts {
  @Field(() => Int)
  targeted: number;
  @Field(() => Int, { description: "offered and not finished yet (OFFERED, DOWNLOADING, DOWNLOADED, UPDATING)" })
  offered: number;
  @Field(() => Int, { description: "DOWNLOADING, DOWNLOADED or UPDATING" })
  downloading: number;
  @Field(() => Int)
  updated: number;
  @Field(() => Int)
  failed: number;
  @Field(() => Int)
  rolledBack: number;
  @Field(() => Int)
  timedOut: number;
}

/** One device of a release (the `device` field is resolved from deviceId). */
@ObjectType()
export class ReleaseDevice {
  deviceId: string;

  @Field(() => ReleaseDeviceState)
  state: ReleaseDeviceState;

  @Field(() => String, { nullable: true, description: "the version the device reported when it was offered the update" })
  fromVersion: string | null;

  @Field(() => String, { nullable: true, description: "fw_error of a FAILED device, or why it failed" })
  error: string | null;

  @Field(() => DateTimeScalar)
  updatedAt: Date;
}

/** A change of one device's state in a release (the firmwareUpdateChanged subscription). */
@ObjectType()
export class FirmwareUpdateEvent {
  @Field(() => ID)
  releaseId: string;

  @Field(() => ID, { nullable: true, description: "null when only the release's status changed" })
  deviceId: string | null;

  @Field(() => ReleaseDeviceState, { nullable: true })
  state: ReleaseDeviceState | null;

  @Field(() => String, { nullable: true })
  error: string | null;

  @Field(() => ReleaseStatus)
  releaseStatus: ReleaseStatus;

  @Field(() => DateTimeScalar)
  at: Date;
}
