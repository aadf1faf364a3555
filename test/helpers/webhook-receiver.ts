import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
export type Handler = (req: IncomingMessage, res: ServerResponse, nth: number) => void;

/** An HTTP server on 127.0.0.1 that records every request; each path answers as told (200 by default). */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly handlers = new Map<string, Handler>();
  private server!: Server;
  base = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        this.received.push({ path, method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
        const handler = this.handlers.get(path) ?? ((_q: IncomingMessage, r: ServerResponse) => r.end("ok"));
        handler(req, res, this.at(path).length);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  on(path: string, handler: Handler = (_q, r) => r.end("ok")): string {
    this.handlers.set(path, handler);
    return `${this.base}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
