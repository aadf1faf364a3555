// The MQTT ceiling: an endpoint that CONNACKs and PUBACKs at once, doing no work, over the same
// codec (mqtt-packet) as the real one. Measured in the same run as the server.
import { createServer } from "node:net";
import mqttPacket from "mqtt-packet";

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const parser = mqttPacket.parser();
  let version = 4;
  parser.on("packet", (packet) => {
    if (packet.cmd === "connect") {
      version = packet.protocolVersion;
      socket.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, reasonCode: 0, sessionPresent: false }, { protocolVersion: version }));
    } else if (packet.cmd === "publish" && packet.qos === 1) {
      socket.write(mqttPacket.generate({ cmd: "puback", messageId: packet.messageId }, { protocolVersion: version }));
    } else if (packet.cmd === "pingreq") socket.write(mqttPacket.generate({ cmd: "pingresp" }));
  });
  parser.on("error", () => socket.destroy());
  socket.on("data", (chunk) => parser.parse(chunk));
  socket.on("error", () => undefined);
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"));
