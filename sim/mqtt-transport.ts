// A device that holds one MQTT connection to the server's device endpoint (docs/mqtt.md) instead of polling:
// username = device id, password = token; reports on its telemetry topic with QoS 1, state and commands
// pushed to it. A report counts as accepted at its PUBACK, which the server sends after the commit.
import mqtt, { ReasonCodes, type MqttClient } from "mqtt";
import { Backoff, stateOf, type PinChange } from "./protocol.js";
import type { DeviceSide, Reading, Transport, TransportOptions } from "./transport.js";

export interface MqttSettings {
  /** mqtt:// or mqtts:// URL of the server's endpoint. */
  url: string;
  /** MQTT_TOPIC_PREFIX of the server. */
  topicPrefix: string;
  /** Keep-alive asked for; the server counts the device offline after 1.5 times this without a packet. */
  keepaliveS?: number;
}

/** Why a connection failed or ended: `what` for the error counts, `reason` for people. */
interface Failure {
  what: string;
  reason: string;
  /** The server refused the token itself: retrying cannot help. */
  refused?: boolean;
}

const hex = (code: number) => `0x${code.toString(16).toUpperCase().padStart(2, "0")}`;
const coded = (code: number) => `${hex(code)} ${ReasonCodes[code as keyof typeof ReasonCodes] ?? "unknown reason"}`;
/** CONNACK codes that refuse the credentials: 3.1.1's 4 and 5, MQTT 5's 0x86 and 0x87. */
const REFUSED = new Set([4, 5, 0x86, 0x87]);
/** How long a stop waits for PUBACKs in flight before it cuts the connection. */
const GOODBYE_MS = 2_000;

export class MqttTransport implements Transport {
  readonly longPollWaitS = 0;
  private readonly topics: { telemetry: string; state: string; commands: string };
  private readonly reconnects: Backoff;
  private readonly reports: Backoff; // a report over the server's budget pauses reports only
  private d!: DeviceSide;
  private dueAt = Infinity;
  private gateUntil = 0;
  private awaitingState = false;
  private waker = new AbortController();
  /** Reports without a PUBACK when their connection ended: sent again after reconnecting, as the contract asks. */
  private resend: Array<Reading> = [];

  constructor(
    private readonly o: TransportOptions,
    private readonly m: MqttSettings,
  ) {
    const own = `${m.topicPrefix}/device/${o.id.toLowerCase()}`;
    this.topics = { telemetry: `${own}/telemetry`, state: `${own}/state`, commands: `${own}/commands` };
    this.reconnects = new Backoff(o.backoffBaseMs, o.backoffCapMs, o.random);
    this.reports = new Backoff(o.backoffBaseMs, o.backoffCapMs, o.random);
  }

  async run(device: DeviceSide): Promise<void> {
    this.d = device;
    while (this.d.running) {
      const attempt = await this.connect();
      if ("what" in attempt) {
        if (!this.d.running) return;
        this.d.fail("connect", attempt.what);
        if (attempt.refused) {
          this.d.forbid(`the server rejected the device token (${attempt.reason}); this device stops`);
          return;
        }
        this.d.lost(attempt.reason);
        await this.retryLater(`connect failed (${attempt.reason})`);
        continue;
      }
      this.reconnects.reset();
      this.d.answered();
      const ended = await this.session(attempt);
      if (!ended) return; // stopped
      this.d.fail("connect", ended.what);
      this.d.lost(`connection lost: ${ended.reason}`);
      await this.retryLater(`connection lost (${ended.reason})`);
    }
  }

  private async retryLater(why: string): Promise<void> {
    const delay = this.reconnects.next();
    this.d.say(`${why}; reconnect #${this.reconnects.failures} in ${delay} ms`, true);
    await this.d.sleep(delay);
  }

  /** One CONNECT; the client once the server accepted it, or why not. */
  private connect(): Promise<MqttClient | Failure> {
    const client = mqtt.connect(this.m.url, {
      username: this.o.id,
      password: this.o.token,
      clientId: `thingsnxt-sim-${this.o.id}`,
      protocolVersion: 5, // refusals come with reason codes
      clean: true, // the endpoint keeps no sessions
      keepalive: this.m.keepaliveS ?? 60,
      connectTimeout: this.o.httpTimeoutMs,
      reconnectPeriod: 0, // reconnects are ours, with the firmware's backoff
      resubscribe: false,
    });
    client.on("error", () => undefined); // every failure is handled through connect or close below
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: MqttClient | Failure) => {
        if (settled) return;
        settled = true;
        this.d.signal.removeEventListener("abort", abort);
        client.removeListener("connect", connected);
        client.removeListener("error", failed);
        client.removeListener("close", closed);
        if (result !== client) client.end(true);
        resolve(result);
      };
      const connected = () => settle(client);
      const failed = (error: Error & { code?: unknown }) => {
        if (typeof error.code === "number") {
          settle({ what: hex(error.code), reason: `CONNACK ${coded(error.code)}`, refused: REFUSED.has(error.code) });
        } else if (error.message === "connack timeout") {
          settle({ what: "timeout", reason: `server unreachable: no CONNACK within ${this.o.httpTimeoutMs / 1000} s` });
        } else {
          settle({ what: "network", reason: `server unreachable: ${typeof error.code === "string" ? error.code : error.message}` });
        }
      };
      const closed = () => settle({ what: "network", reason: "server unreachable: connection closed" });
      const abort = () => settle({ what: "stopped", reason: "stopped" });
      client.once("connect", connected);
      client.once("error", failed);
      client.once("close", closed);
      this.d.signal.addEventListener("abort", abort, { once: true });
    });
  }

  /** Reports on schedule and applies what is pushed until the connection ends (its failure) or the device stops (undefined). */
  private async session(client: MqttClient): Promise<Failure | undefined> {
    let ended: Failure | undefined;
    let goodbye: number | undefined;
    const inFlight = new Set<Reading>();
    client.on("disconnect", (packet) => (goodbye = packet.reasonCode));
    client.once("close", () => {
      ended = goodbye ? { what: hex(goodbye), reason: `server ended the session: ${coded(goodbye)}` } : { what: "closed", reason: "connection closed" };
      this.wake();
    });
    client.on("message", (topic, payload) => this.received(topic, payload));
    let subscribing = true;
    client.subscribe([this.topics.state, this.topics.commands], { qos: 1 }, (error, granted) => {
      subscribing = false;
      if (error) return; // the connection ended first: its close says so
      for (const { topic, qos } of granted ?? []) {
        if (qos < 0x80) continue;
        this.d.fail("state", hex(qos));
        this.d.say(`subscription to ${topic} refused (SUBACK ${coded(qos)}); is --topic-prefix the server's?`, false);
      }
    });
    // The state comes right after the subscription: the first report waits for it, so it confirms the
    // app's state rather than stale pins, as the first poll does over HTTP. At worst it goes at its slot.
    this.awaitingState = true;
    this.dueAt = performance.now() + this.o.telemetryIntervalMs;
    for (const data of this.resend.splice(0)) this.publish(client, inFlight, data);
    while (this.d.running && !ended) {
      const now = performance.now();
      const at = Math.max(this.dueAt, this.gateUntil);
      if (now >= at) {
        this.dueAt = now + this.o.telemetryIntervalMs;
        this.publish(client, inFlight, this.d.reading());
      } else {
        await this.nap(at - now);
      }
    }
    if (!ended) {
      // Stopped: a clean DISCONNECT once the reports in flight are acknowledged, or a cut after a while.
      const deadline = performance.now() + GOODBYE_MS;
      while ((inFlight.size > 0 || subscribing) && !ended && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // end(false) would wait for whatever is still unanswered; a second end() does nothing, so choose once.
      client.end(inFlight.size > 0 || subscribing);
      return undefined;
    }
    client.end(true);
    this.resend.push(...inFlight);
    return ended;
  }

  private publish(client: MqttClient, inFlight: Set<Reading>, data: Reading): void {
    const startedAt = performance.now();
    inFlight.add(data);
    this.d.sent();
    client.publish(this.topics.telemetry, JSON.stringify({ data }), { qos: 1 }, (error, packet) => {
      if (!inFlight.delete(data)) return; // its connection ended: it is sent again after reconnecting
      const code = (error as { code?: unknown } | undefined)?.code;
      if (!error) {
        this.reports.reset();
        this.d.ok("telemetry", performance.now() - startedAt);
      } else if (typeof code !== "number") {
        this.resend.push(data); // no PUBACK: the connection is ending
      } else {
        this.refused(code, (packet as { properties?: { reasonString?: string } } | undefined)?.properties?.reasonString);
      }
    });
  }

  /** A PUBACK with a refusal: over the budget (0x97) pauses reports; anything else would be refused again. */
  private refused(code: number, detail: string | undefined): void {
    this.d.fail("telemetry", hex(code));
    if (code === 0x97) {
      const waitMs = this.reports.next();
      this.gateUntil = performance.now() + waitMs;
      this.d.say(`telemetry rate limited (PUBACK ${coded(code)}); pausing reports for ${waitMs} ms`, false);
    } else {
      this.d.say(`telemetry rejected (PUBACK ${coded(code)}): ${detail ?? "no detail"}`, false);
    }
  }

  /** A state message is applied exactly as a poll answer; a command message as the one pin it names. */
  private received(topic: string, payload: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      body = undefined;
    }
    if (topic === this.topics.state) {
      const data = stateOf(body);
      if (!data) {
        this.d.fail("state", "not a state");
        this.d.say(`state message without a data object: ${payload.toString("utf8").slice(0, 80)}`, false);
        return;
      }
      this.d.ok("state", 0);
      this.confirm(this.d.apply(data, "state"));
      if (this.awaitingState) {
        this.awaitingState = false;
        this.dueAt = Math.min(this.dueAt, performance.now());
        this.wake();
      }
    } else if (topic === this.topics.commands) {
      const { virtual_pin: pin, state } = (body ?? {}) as { virtual_pin?: unknown; state?: unknown };
      if (typeof pin !== "string") {
        this.d.fail("command", "not a command");
        return;
      }
      this.confirm(this.d.apply({ [pin]: state }, "command"));
    }
  }

  /** A pin changed: the device reports it back at once, unless reports are paused (the next one carries it). */
  private confirm(changes: PinChange[]): void {
    if (changes.length === 0 || this.reports.failures > 0) return;
    this.dueAt = performance.now();
    this.wake();
  }

  /** A sleep that a due report or a lost connection cuts short. */
  private nap(ms: number): Promise<void> {
    this.waker = new AbortController();
    return this.d.sleep(ms, this.waker.signal);
  }

  private wake(): void {
    this.waker.abort();
  }
}
