/**
 * A lean MQTT load generator (mqtt-packet over raw sockets, as the endpoint itself): each device
 * keeps `window` QoS 1 publishes in flight and sends the next as each PUBACK arrives. mqtt.js tops
 * out near 4K QoS 1 msg/s here, below what the endpoint takes, so it cannot be the generator.
 */
import { connect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { percentile, type Row } from "./lib.js";

export interface LoadDevice {
  id: string;
  token: string;
}

export async function openDevice(port: number, device: LoadDevice, keepalive = 60): Promise<{ socket: Socket; parser: ReturnType<typeof mqttPacket.parser> }> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const parser = mqttPacket.parser();
  socket.on("data", (chunk) => parser.parse(chunk));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () =>
      socket.write(
        mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: device.id, clean: true, keepalive, username: device.token }),
      ),
    );
    parser.once("packet", (packet) =>
      packet.cmd === "connack" && (packet as { returnCode?: number }).returnCode === 0 ? resolve() : reject(new Error("refused")),
    );
    socket.once("error", reject);
  });
  return { socket, parser };
}

/** QoS 1 telemetry from every device for `seconds`; req/s counts PUBACKs, latency is publish to PUBACK. */
export async function publishLoad(name: string, port: number, devices: LoadDevice[], seconds: number, window = 8): Promise<Row> {
  const links = await Promise.all(devices.map((d) => openDevice(port, d)));
  const latencies: number[] = [];
  let acked = 0;
  let stop = false;
  let counter = 0;
  const done = links.map(
    ({ socket, parser }, i) =>
      new Promise<void>((resolve) => {
        const device = devices[i]!;
        const topic = `thingsnxt/device/${device.id}/telemetry`;
        const sentAt = new Map<number, number>();
        let nextId = 1;
        const send = () => {
          const id = nextId;
          nextId = (nextId % 65535) + 1;
          const n = counter++;
          sentAt.set(id, performance.now());
          const payload = `{"data":{"v0":${n & 1},"v1":0,"temperature":${20 + (n % 100) / 10},"humidity":55,"timestamp":${n}}}`;
          socket.write(mqttPacket.generate({ cmd: "publish", topic, payload, qos: 1, messageId: id, retain: false, dup: false }));
        };
        parser.on("packet", (packet) => {
          if (packet.cmd !== "puback") return;
          const started = sentAt.get(packet.messageId!);
          sentAt.delete(packet.messageId!);
          if (started !== undefined) latencies.push(performance.now() - started);
          acked++;
          if (!stop) send();
          else if (sentAt.size === 0) resolve();
        });
        for (let k = 0; k < window; k++) send();
      }),
  );
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  const ackedAtStop = acked;
  const elapsed = (performance.now() - started) / 1000;
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 5000))]);
  for (const { socket } of links) socket.destroy();
  return { scenario: name, rps: ackedAtStop / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors: 0 };
}
