import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { Logger } from "pino";
import { ConfigError, type Config } from "./config.js";

/** What TLS_CERT_FILE and TLS_KEY_FILE held when they were last read, checked. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 fingerprint of the first (leaf) certificate, as `getPeerCertificate().fingerprint256` shows it. */
  readonly fingerprint256: string;
  readonly validTo: Date;
}

function read(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${name} (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Reads the certificate (chain: leaf first, as certbot's fullchain.pem) and its key, and checks them
 * the way the server will use them, so a bad pair fails here with the setting named, not at the
 * first handshake. Throws ConfigError: at start it stops the process, on reload it is logged.
 */
export function readTlsPair(files: NonNullable<Config["tls"]>): TlsPair {
  const cert = read("TLS_CERT_FILE", files.certFile);
  const key = read("TLS_KEY_FILE", files.keyFile);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`TLS_CERT_FILE (${files.certFile}) holds no PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`TLS_KEY_FILE (${files.keyFile}) holds no PEM private key (an encrypted key is not supported)`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ConfigError(`TLS_KEY_FILE (${files.keyFile}) is not the key of the certificate in TLS_CERT_FILE (${files.certFile})`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(`TLS_CERT_FILE/TLS_KEY_FILE cannot be used: ${(error as Error).message}`);
  }
  return { cert, key, fingerprint256: leaf.fingerprint256, validTo: new Date(leaf.validTo) };
}

/**
 * Rereads the files and gives new connections the new pair (Node's `setSecureContext`; open
 * connections keep theirs). A pair that fails the checks is logged and the old one stays in use.
 */
export function reloadTlsPair(
  server: { setSecureContext(options: { cert: Buffer; key: Buffer }): void },
  files: NonNullable<Config["tls"]>,
  log: Logger,
): TlsPair | undefined {
  try {
    const pair = readTlsPair(files);
    server.setSecureContext({ cert: pair.cert, key: pair.key });
    log.info({ fingerprint256: pair.fingerprint256, validTo: pair.validTo.toISOString() }, "TLS certificate reloaded");
    warnIfExpiring(pair, log);
    return pair;
  } catch (error) {
    log.error({ err: (error as Error).message }, "TLS certificate not reloaded: the previous one stays in use");
    return undefined;
  }
}

/** Logged at start and at each reload, so an expiring certificate shows in the log before clients see it. */
export function warnIfExpiring(pair: TlsPair, log: Logger, now = Date.now()): void {
  const days = Math.floor((pair.validTo.getTime() - now) / 86_400_000);
  if (days < 14) log.warn({ validTo: pair.validTo.toISOString(), days }, days < 0 ? "TLS certificate has expired" : "TLS certificate expires soon");
}
