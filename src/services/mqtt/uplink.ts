import type { IPublishPacket } from "mqtt-packet";
import { AppError, isDatabaseUnavailable } from "../../platform/errors.js";
import { hashToken } from "../../platform/secrets.js";
import { parseUplink, UplinkError } from "./messages.js";
import { RC, RECEIVE_MAXIMUM, type SessionLink } from "./link.js";

/**
 * The device-to-server half of a session: each PUBLISH goes to the ingest core, and its PUBACK is
 * sent once the report is committed, in the order the PUBLISHes came.
 */
export class Uplink {
  private acks: Promise<void> = Promise.resolve();
  private reportsInFlight = 0;

  constructor(private readonly link: SessionLink) {}

  publish(packet: IPublishPacket): void {
    const device = this.link.device;
    if (packet.qos === 2) {
      this.link.end("QoS 2 is not supported (maximum QoS 1)", RC.qosNotSupported);
      return;
    }
    if (packet.properties?.topicAlias !== undefined) {
      this.link.end("topic aliases are not supported", RC.topicAliasInvalid);
      return;
    }
    const batch = packet.topic === this.link.host.topics.batch(device.id);
    if (packet.topic !== this.link.host.topics.telemetry(device.id) && !batch) {
      this.link.end(`publish to ${JSON.stringify(packet.topic.slice(0, 200))}: a device may publish only to its own telemetry topic`, RC.notAuthorized);
      return;
    }
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    if (payload.length > this.link.host.maxPacketBytes) {
      this.link.end(`payload of ${payload.length} bytes is over the limit`, RC.packetTooLarge);
      return;
    }
    const over = this.link.host.budget.hit(device.id);
    if (over > 0) {
      if (over > RECEIVE_MAXIMUM * 4) {
        this.link.end("rate limit exceeded again and again", RC.quotaExceeded);
        return;
      }
      this.link.warn("rate limit exceeded: report dropped");
      // MQTT 5 says so in the PUBACK; a 3.1.1 client gets no PUBACK and keeps the message.
      if (packet.qos === 1 && this.link.version === 5) this.ackInOrder(packet.messageId!, Promise.resolve(RC.quotaExceeded), "rate limit exceeded");
      return;
    }
    let uplink: ReturnType<typeof parseUplink>;
    try {
      uplink = parseUplink(payload);
      if (uplink.token !== undefined && hashToken(uplink.token) !== device.tokenHash) {
        throw new UplinkError("device_token in the payload is not this session's device's", RC.notAuthorized);
      }
    } catch (error) {
      if (!(error instanceof UplinkError)) throw error;
      this.refusePublish(packet, error.reasonCode, error.message);
      return;
    }
    this.reportsInFlight++;
    if (this.reportsInFlight >= RECEIVE_MAXIMUM) this.link.pause();
    const { ingest } = this.link.host;
    const stored = batch ? ingest.reportBatch(device, uplink.records, "mqtt") : ingest.report(device, uplink.data, "mqtt", uplink.ts);
    const outcome = stored.then(
      () => RC.success as number,
      (error: unknown) => {
        if (error instanceof AppError && error.code === "BAD_USER_INPUT") return { code: RC.payloadFormatInvalid as number, message: error.message };
        if (error instanceof AppError && error.code === "RATE_LIMITED") return { code: RC.quotaExceeded as number, message: error.message };
        if (error instanceof AppError && error.code === "FORBIDDEN") return { code: RC.notAuthorized as number, message: error.message };
        if (isDatabaseUnavailable(error) || (error instanceof AppError && error.code === "SERVICE_UNAVAILABLE")) return "unavailable" as const;
        this.link.host.log.error({ err: error, deviceId: device.id }, "mqtt report failed");
        return "unavailable" as const;
      },
    );
    void outcome.finally(() => {
      if (--this.reportsInFlight < RECEIVE_MAXIMUM && !this.link.closed) this.link.resume();
    });
    if (packet.qos === 0) {
      void outcome.then((result) => {
        if (typeof result === "object") this.link.warn(`report refused: ${result.message}`);
      });
      return;
    }
    this.ackInOrder(
      packet.messageId!,
      outcome.then((result) => {
        if (typeof result === "number") return result;
        if (result === "unavailable") return undefined;
        this.link.warn(`report refused: ${result.message}`);
        return { code: result.code, message: result.message };
      }),
    );
  }

  private refusePublish(packet: IPublishPacket, code: number, message: string): void {
    this.link.warn(`report refused: ${message}`);
    if (packet.qos === 1) this.ackInOrder(packet.messageId!, Promise.resolve(code), message);
  }

  /**
   * PUBACKs go out in the order the PUBLISHes came (MQTT 4.6), each once its report is committed.
   * Storage being unavailable acknowledges nothing: the session ends, and the device sends the
   * unacknowledged reports again when it reconnects.
   */
  private ackInOrder(messageId: number, outcome: Promise<number | { code: number; message: string } | undefined>, message?: string): void {
    this.acks = this.acks.then(async () => {
      const result = await outcome;
      if (this.link.closed) return;
      if (result === undefined) {
        this.link.end("storage unavailable: reports are not acknowledged; reconnect and send them again", RC.serverBusy);
        return;
      }
      const code = typeof result === "number" ? result : result.code;
      const reason = typeof result === "number" ? message : result.message;
      // 3.1.1 has no refusal in a PUBACK: a refused report is acknowledged (it must not come back) and logged.
      this.link.send({
        cmd: "puback",
        messageId,
        ...(this.link.version === 5 ? { reasonCode: code, ...(code !== 0 && reason ? { properties: { reasonString: reason.slice(0, 200) } } : {}) } : {}),
      });
    });
  }
}
