import type { ISubscribePacket, IUnsubscribePacket } from "mqtt-packet";
import type { StateSnapshot } from "../../platform/event-bus.js";
import type { JsonValue } from "../../platform/json.js";
import { mergedOf } from "../telemetry/device-state.model.js";
import { changedCommands, commandMessage, desiredFingerprint, stateMessage } from "./messages.js";
import { MAX_UNACKED, RC, type SessionLink } from "./link.js";

/**
 * The server-to-device half of a session: the device's own state and commands topics, the current
 * state on subscription, every change after it, and delivery marks when the device acknowledges.
 */
export class Downlink {
  private stateQos: 0 | 1 | undefined;
  private commandsQos: 0 | 1 | undefined;
  private lastDesired = new Map<string, string>();
  private lastVersion = -1;
  private nextMessageId = 1;
  private readonly unacked = new Map<number, number>();

  constructor(private readonly link: SessionLink) {}

  async subscribe(packet: ISubscribePacket): Promise<void> {
    const device = this.link.device;
    const refused = this.link.version === 5 ? RC.notAuthorized : 0x80;
    let newState = false;
    let newCommands = false;
    const granted = packet.subscriptions.map(({ topic, qos }) => {
      if (topic.startsWith("$share/")) return this.link.version === 5 ? RC.sharedNotSupported : 0x80;
      const grant = this.link.host.topics.grantOf(device.id, topic);
      if (!grant) {
        this.link.warn(`subscription to ${JSON.stringify(topic.slice(0, 200))} refused: a device may subscribe only to its own topics`);
        return refused;
      }
      const level = Math.min(qos, 1) as 0 | 1;
      if (grant.state) [newState, this.stateQos] = [newState || this.stateQos === undefined, level];
      if (grant.commands) [newCommands, this.commandsQos] = [newCommands || this.commandsQos === undefined, level];
      return level;
    });
    this.link.send({ cmd: "suback", messageId: packet.messageId, granted });
    if (!newState && !newCommands) return;
    const state = await this.link.host.state.get(device.id);
    const desired: Record<string, JsonValue> = {};
    const pending: Record<string, JsonValue> = {};
    for (const key of Object.keys(state.desired)) {
      const entry = state.desired[key]!;
      desired[key] = entry.value;
      if (entry.deliveredAt === null) pending[key] = entry.value;
    }
    if (newState && this.stateQos !== undefined) {
      this.publish(this.link.host.topics.state(device.id), stateMessage(device.id, mergedOf(state), state.reportedAt), this.stateQos, state.version);
    }
    if (newCommands && this.commandsQos !== undefined) {
      // Commands not yet delivered (given while the device was away) are sent on subscription.
      for (const key of Object.keys(pending)) {
        this.publish(this.link.host.topics.commands(device.id), commandMessage(key, pending[key]!, Date.now()), this.commandsQos, state.version);
      }
    }
    this.lastDesired = desiredFingerprint(desired);
    this.lastVersion = Math.max(this.lastVersion, state.version);
  }

  unsubscribe(packet: IUnsubscribePacket): void {
    const device = this.link.device;
    const codes = packet.unsubscriptions.map((topic) => {
      const grant = this.link.host.topics.grantOf(device.id, topic);
      if (!grant) return RC.noSubscription;
      if (grant.state) this.stateQos = undefined;
      if (grant.commands) this.commandsQos = undefined;
      return RC.success;
    });
    this.link.send({ cmd: "unsuback", messageId: packet.messageId, ...(this.link.version === 5 ? { granted: codes } : {}) });
  }

  /**
   * The device's state changed (here or in another process). Its own sensor reports are not sent
   * back: only a change of what it should do (a command, a desired value confirmed or dropped).
   */
  stateChanged(state: StateSnapshot, commanded: boolean): void {
    const device = this.link.device;
    if (!device || this.link.closed || state.version <= this.lastVersion) return;
    const commands = changedCommands(this.lastDesired, state.desired);
    const desiredChanged = commands.length > 0 || Object.keys(state.desired).length !== this.lastDesired.size;
    if (!commanded && !desiredChanged) return;
    this.lastVersion = state.version;
    this.lastDesired = desiredFingerprint(state.desired);
    if (this.stateQos !== undefined) {
      this.publish(this.link.host.topics.state(device.id), stateMessage(device.id, state.merged, state.reportedAt), this.stateQos, state.version);
    }
    if (this.commandsQos !== undefined) {
      const at = Date.now();
      for (const [key, value] of commands)
        this.publish(this.link.host.topics.commands(device.id), commandMessage(key, value, at), this.commandsQos, state.version);
    }
  }

  private publish(topic: string, payload: Buffer, qos: 0 | 1, version: number): void {
    if (qos === 0) {
      this.link.send({ cmd: "publish", topic, payload, qos: 0, retain: false, dup: false });
      this.markDelivered(version); // nothing will confirm it: sent is as good as a poll answered
      return;
    }
    if (this.unacked.size >= MAX_UNACKED) {
      this.link.end(`${MAX_UNACKED} state messages not acknowledged`, RC.quotaExceeded);
      return;
    }
    let id = this.nextMessageId;
    while (this.unacked.has(id)) id = (id % 65535) + 1;
    this.nextMessageId = (id % 65535) + 1;
    this.unacked.set(id, version);
    this.link.send({ cmd: "publish", topic, payload, qos: 1, messageId: id, retain: false, dup: false });
  }

  /** The device acknowledged a state or command message: what it carried counts as delivered. */
  acknowledged(messageId: number | undefined): void {
    const version = messageId === undefined ? undefined : this.unacked.get(messageId);
    if (version === undefined) return;
    this.unacked.delete(messageId!);
    this.markDelivered(version);
  }

  private markDelivered(version: number): void {
    const device = this.link.device;
    this.link.host.state
      .delivered(device, version)
      .catch((error: Error) => this.link.host.log.warn({ err: error.message, deviceId: device.id }, "mqtt delivery mark"));
  }

  /** Events may have been lost (Redis link down): the state is read again and sent if it changed. */
  async refresh(): Promise<void> {
    if (this.stateQos === undefined && this.commandsQos === undefined) return;
    const state = await this.link.host.state.get(this.link.device.id);
    const desired: Record<string, JsonValue> = {};
    for (const key of Object.keys(state.desired)) desired[key] = state.desired[key]!.value;
    const reportedAt = state.reportedAt === null ? null : new Date(state.reportedAt).toISOString();
    this.stateChanged(
      { deviceId: state.deviceId, reported: { ...state.reported }, desired, merged: mergedOf(state), reportedAt, version: state.version },
      false,
    );
  }

  /** Whether the state and commands topics are subscribed. */
  get subscribed(): { state: boolean; commands: boolean } {
    return { state: this.stateQos !== undefined, commands: this.commandsQos !== undefined };
  }
}
