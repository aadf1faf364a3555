import { createHash, randomBytes } from "node:crypto";
import type { Account } from "../helpers/graphql.js";
import { gql } from "../helpers/graphql.js";

/** An ESP32 application image as the contract describes it: 0xE9, an app descriptor naming `version`, then filler. */
export function makeImage(version: string, size = 100_000, options: { magic?: number; descriptor?: boolean } = {}): Buffer {
  const image = randomBytes(size);
  image[0] = options.magic ?? 0xe9;
  if (options.descriptor !== false && size >= 112) {
    image.writeUInt32LE(0xabcd5432, 32);
    image.fill(0, 48, 112);
    image.write(version, 48, "utf8");
    image.write("thingsnxt-test", 80, "utf8");
  } else if (size >= 36) image.writeUInt32LE(0, 32);
  return image;
}

export const hex = (algorithm: "md5" | "sha256", data: Buffer) => createHash(algorithm).update(data).digest("hex");

export async function upload(base: string, token: string | undefined, title: string, version: string, body: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/firmware?title=${encodeURIComponent(title)}&version=${encodeURIComponent(version)}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function download(base: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/firmware/update`, { headers: { "x-device-token": token, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

const RELEASE_FIELDS = `id status createdAt firmware { id version } counts { targeted offered downloading updated failed rolledBack timedOut }
  devices(first: 500) { device { id } state fromVersion error updatedAt }`;

export async function createRelease(base: string, account: Account, input: Record<string, unknown>) {
  return gql(base, `mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { ${RELEASE_FIELDS} } }`, { i: input }, account.accessToken);
}

export async function release(base: string, account: Account, id: string) {
  const res = await gql(base, `query ($id: ID!) { release(id: $id) { ${RELEASE_FIELDS} } }`, { id }, account.accessToken);
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.release as {
    id: string;
    status: string;
    counts: Record<string, number>;
    devices: Array<{ device: { id: string } | null; state: string; fromVersion: string | null; error: string | null }>;
  };
}

/** The state of one device in the release. */
export const stateOf = (r: Awaited<ReturnType<typeof release>>, deviceId: string) => r.devices.find((d) => d.device?.id === deviceId)?.state;

/** A report as firmware sends it (V2). */
export async function report(base: string, device: { id: string; token: string }, data: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/devices/${device.id}/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-device-token": device.token },
    body: JSON.stringify({ data }),
  });
  if (res.status !== 200) throw new Error(`report answered ${res.status}: ${await res.text()}`);
}
