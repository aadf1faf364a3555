// The ceiling for downloads: a bare node:http server answering the same bytes from memory.
import { createServer } from "node:http";

const body = Buffer.alloc(Number(process.env.BYTES), 0xe9);
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
  res.end(body);
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"));
