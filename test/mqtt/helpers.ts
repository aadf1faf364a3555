import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { TestServer } from "../helpers/server.js";

/** The port the test server's MQTT endpoint got (the tests run it with MQTT_PORT=0). */
export function mqttPortOf(server: TestServer): number {
  const port = server.services.mqtt?.portOf("MQTT_PORT");
  if (!port) throw new Error("the server runs no MQTT endpoint: start it with MQTT_PORT=0");
  return port;
}

/** A real mqtt.js client, as firmware or a gateway would use it; no reconnects unless asked. */
export function connectDevice(server: TestServer, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPortOf(server)}`, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options }, false);
}

/** What a CONNECT that must fail is refused with (CONNACK return code, or MQTT 5 reason code). */
export async function refusal(server: TestServer, options: IClientOptions): Promise<number | undefined> {
  try {
    const client = await connectDevice(server, options);
    await client.endAsync();
    return undefined;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

export interface Inbox {
  readonly messages: Array<{ topic: string; body: any; qos: number }>;
  next(topic?: string, ms?: number): Promise<{ topic: string; body: any; qos: number }>;
}

/** Collects what a client receives, to take messages in order. */
export function inbox(client: MqttClient): Inbox {
  const messages: Inbox["messages"] = [];
  let taken = 0;
  const waiters: Array<() => void> = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, body: JSON.parse(payload.toString()), qos: packet.qos });
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    messages,
    async next(topic, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        while (taken < messages.length) {
          const message = messages[taken++]!;
          if (!topic || message.topic === topic) return message;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no MQTT message${topic ? ` on ${topic}` : ""} within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

/** Resolves with the MQTT 5 DISCONNECT reason code the server ends the session with (or "closed"). */
export function disconnectReason(client: MqttClient, ms = 5000): Promise<number | "closed"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`session not ended within ${ms} ms`)), ms);
    client.once("disconnect", (packet) => {
      clearTimeout(timer);
      resolve(packet.reasonCode ?? 0);
    });
    client.once("close", () => {
      clearTimeout(timer);
      setImmediate(() => resolve("closed"));
    });
  });
}
