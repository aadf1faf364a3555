import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import mqtt from "mqtt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDevice, createUser, startTestServer, type TestServer } from "../helpers/server.js";

/** MQTTS_PORT: devices connect over mqtts:// with the HTTPS certificate, reloaded on SIGHUP. */
const dir = mkdtempSync(join(tmpdir(), "thingsnxt-mqtts-"));
const certFile = join(dir, "server.crt");
const keyFile = join(dir, "server.key");

function selfSigned(name: string): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=${name}`, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
  ], { stdio: "pipe" }); // prettier-ignore
  const pem = readFileSync(cert, "utf8");
  return { cert: pem, key: readFileSync(key, "utf8"), fingerprint: new X509Certificate(pem).fingerprint256 };
}

const first = selfSigned("first");
const second = selfSigned("second");
let server: TestServer;
let port: number;

beforeAll(async () => {
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);
  server = await startTestServer({ MQTT_PORT: "off", MQTTS_PORT: "0", TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
  port = server.services.mqtt!.portOf("MQTTS_PORT")!;
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const servedFingerprint = () =>
  new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca: [first.cert, second.cert] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on("error", reject);
  });

it("a device reports over mqtts:// with a certificate it trusts, and the certificate is reloaded", async () => {
  const device = await createDevice(server, await createUser(server));
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { username: device.token, ca: first.cert, reconnectPeriod: 0 }, false);
  await client.publishAsync(`thingsnxt/device/${device.id}/telemetry`, JSON.stringify({ data: { t: 1 } }), { qos: 1 });
  expect((await server.services.state.get(device.id)).reported.t).toBe(1);
  await client.endAsync();

  expect(await servedFingerprint()).toBe(first.fingerprint);
  writeFileSync(certFile, second.cert);
  writeFileSync(keyFile, second.key);
  expect(server.services.mqtt!.reloadTls()).toBe(true);
  expect(await servedFingerprint()).toBe(second.fingerprint);
  // A bad pair is refused and the current one stays.
  writeFileSync(keyFile, first.key);
  expect(server.services.mqtt!.reloadTls()).toBe(false);
  expect(await servedFingerprint()).toBe(second.fingerprint);
});
