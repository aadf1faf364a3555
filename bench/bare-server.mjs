// The ceiling: a bare node:http server answering a fixed JSON body, measured in the same run.
import { createServer } from "node:http";

const body = JSON.stringify({ device_id: "00000000-0000-4000-8000-000000000000", data: { v0: 1, temperature: 25.5 }, timestamp: null });
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"));
