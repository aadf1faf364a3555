import { UUID_RE } from "../../platform/ids.js";

/** What a device's own topic filter gives it. */
export interface Grant {
  readonly state: boolean;
  readonly commands: boolean;
}

/**
 * The device contract's topic names (docs/mqtt.md), under MQTT_TOPIC_PREFIX:
 * `<prefix>/device/<id>/telemetry` up, `<prefix>/device/<id>/state` and `.../commands` down.
 * A device may publish only to its own telemetry topic and subscribe only to its own downlinks.
 */
export class DeviceTopics {
  private readonly root: string;

  constructor(prefix: string) {
    this.root = `${prefix}/device/`;
  }

  own(deviceId: string): string {
    return this.root + deviceId;
  }

  telemetry(deviceId: string): string {
    return `${this.own(deviceId)}/telemetry`;
  }

  /** Backfill batches of buffered records. */
  batch(deviceId: string): string {
    return `${this.telemetry(deviceId)}/batch`;
  }

  state(deviceId: string): string {
    return `${this.own(deviceId)}/state`;
  }

  commands(deviceId: string): string {
    return `${this.own(deviceId)}/commands`;
  }

  /** The shared subscriptions a bound server process takes uplinks from (external broker): reports and batches. */
  sharedUplinks(group: string): string[] {
    return [`$share/${group}/${this.root}+/telemetry`, `$share/${group}/${this.root}+/telemetry/batch`];
  }

  /** The device of an uplink topic (`<prefix>/device/<id>/telemetry[/batch]`), its id lower-cased; undefined otherwise. */
  uplinkOf(topic: string): { deviceId: string; batch: boolean } | undefined {
    if (!topic.startsWith(this.root)) return undefined;
    const batch = topic.endsWith("/telemetry/batch");
    if (!batch && !topic.endsWith("/telemetry")) return undefined;
    const id = topic.slice(this.root.length, -(batch ? "/telemetry/batch" : "/telemetry").length);
    return UUID_RE.test(id) ? { deviceId: id.toLowerCase(), batch } : undefined;
  }

  /**
   * What a subscription filter of `deviceId` gives it: its state and commands topics, each by name
   * or through `+`/`#` at its own level. Undefined for any filter that reaches past its own topics.
   */
  grantOf(deviceId: string, filter: string): Grant | undefined {
    const own = this.own(deviceId);
    switch (filter) {
      case this.state(deviceId):
        return { state: true, commands: false };
      case this.commands(deviceId):
        return { state: false, commands: true };
      case `${own}/+`:
      case `${own}/#`:
        return { state: true, commands: true };
      default:
        return undefined;
    }
  }
}
