import { createServer } from "node:net";
import { ConfigError } from "./config.js";

/**
 * Fails at once, with one line naming the setting, when `host:port` cannot be listened on. Called
 * before any slow start-up work (embedded PostgreSQL, migrations), so a port taken by another
 * process is reported in a second instead of as a stack trace after the whole start. Another
 * process can still take the port between this check and the real listen; that rarer case keeps
 * the listener's own error.
 *
 * @param name the setting that chose the port (PORT, MQTT_PORT, ...), for the message
 */
export async function assertPortFree(name: string, host: string, port: number): Promise<void> {
  if (port === 0) return; // the system picks a free one
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", (error: NodeJS.ErrnoException) => reject(listenError(name, host, port, error)));
    // exclusive: in a cluster worker the primary would otherwise share (and hide) a taken port.
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The listener's error as a one-line ConfigError when it is a configuration problem. */
export function listenError(name: string, host: string, port: number, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case "EADDRINUSE":
      return new ConfigError(`${name} ${port} on ${host} is already in use: stop the other process or set ${name}`);
    case "EACCES":
      return new ConfigError(`${name} ${port} on ${host} needs privileges this process does not have: set ${name} above 1023`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError(`${name} ${port} cannot be listened on at ${host}: it is not an address of this machine`);
    default:
      return error;
  }
}
