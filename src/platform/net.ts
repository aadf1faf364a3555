import { isIP } from "node:net";

/**
 * IP addresses and ranges: which ones are globally routable unicast, which are cloud metadata
 * endpoints, and the operator's allow-list (WEBHOOK_ALLOWED_HOSTS). Used by the webhooks' SSRF guard
 * and by the config that parses the allow-list.
 */

type Range = { v6: boolean; base: bigint; bits: number; label: string };

function v4ToBigInt(ip: string): bigint {
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBigInt(raw: string): bigint {
  let ip = raw.split("%")[0]!; // a zone (fe80::1%eth0) does not change the address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (dotted) {
    const v4 = v4ToBigInt(dotted[1]!);
    ip = `${ip.slice(0, -dotted[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The address as a 128-bit number (IPv4 as is, 32 bits) and its family; undefined when not an IP. */
function parseIp(ip: string): { v6: boolean; value: bigint } | undefined {
  const family = isIP(ip.split("%")[0]!);
  if (family === 4) return { v6: false, value: v4ToBigInt(ip) };
  if (family === 6) return { v6: true, value: v6ToBigInt(ip) };
  return undefined;
}

function range(cidr: string, label = ""): Range {
  const [ip, bitsText] = cidr.split("/");
  const parsed = parseIp(ip ?? "");
  const max = parsed?.v6 ? 128 : 32;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!parsed || !(bits >= 0 && bits <= max)) throw new Error(`"${cidr}" is not an IP address or CIDR range`);
  const shift = BigInt(max - bits);
  return { v6: parsed.v6, base: (parsed.value >> shift) << shift, bits, label };
}

function inRange(r: Range, ip: { v6: boolean; value: bigint }): boolean {
  if (r.v6 !== ip.v6) return false;
  const shift = BigInt((r.v6 ? 128 : 32) - r.bits);
  return ip.value >> shift === r.base >> shift;
}

/** Never allowed, not even through the allow-list: a delivery there would hand out cloud credentials. */
const METADATA: Range[] = [
  "169.254.169.254/32", // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle...
  "169.254.170.2/32", // AWS ECS task metadata
  "100.100.100.200/32", // Alibaba Cloud
  "fd00:ec2::254/128", // AWS over IPv6
].map((c) => range(c, "a cloud metadata endpoint"));

export const METADATA_HOSTS = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.azure.internal",
]);

// First match wins: the more specific label comes first.
const V4: Range[] = [
  ["255.255.255.255/32", "broadcast"],
  ["0.0.0.0/8", "unspecified (0.0.0.0/8)"],
  ["127.0.0.0/8", "loopback"],
  ["10.0.0.0/8", "private"],
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["100.64.0.0/10", "shared address space (CGNAT)"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["192.0.0.0/24", "reserved"],
  ["192.0.2.0/24", "reserved for documentation"],
  ["198.51.100.0/24", "reserved for documentation"],
  ["203.0.113.0/24", "reserved for documentation"],
  ["198.18.0.0/15", "reserved for benchmarking"],
  ["192.88.99.0/24", "reserved (6to4 relay)"],
].map(([c, label]) => range(c!, label));

const MAPPED = [range("::ffff:0:0/96"), range("64:ff9b::/96")]; // IPv4-mapped, NAT64: judged by their IPv4 address

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address. */
function embeddedV4(ip: { v6: boolean; value: bigint }): string | undefined {
  if (!ip.v6 || !MAPPED.some((r) => inRange(r, ip))) return undefined;
  const v = ip.value & 0xffffffffn;
  return `${v >> 24n}.${(v >> 16n) & 255n}.${(v >> 8n) & 255n}.${v & 255n}`;
}

const V6: Range[] = [
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["fc00::/7", "private (unique local)"],
  ["fec0::/10", "private (site-local)"],
  ["fe80::/10", "link-local"],
  ["ff00::/8", "multicast"],
  ["64:ff9b:1::/48", "private (local NAT64)"],
  ["2001::/32", "reserved (Teredo)"],
  ["2001:db8::/32", "reserved for documentation"],
  ["2001:2::/48", "reserved for benchmarking"],
  ["2001:10::/28", "reserved (ORCHID)"],
  ["2001:20::/28", "reserved (ORCHID)"],
  ["2002::/16", "reserved (6to4)"],
].map(([c, label]) => range(c!, label));
const GLOBAL_UNICAST_V6 = range("2000::/3");

/**
 * Why a delivery to this address is refused ("private", "loopback", ...), or undefined when the
 * address is globally routable. Not an IP address at all: refused too.
 */
export function forbiddenRange(address: string): string | undefined {
  const ip = parseIp(address);
  if (!ip) return "not an IP address";
  const metadata = METADATA.find((r) => inRange(r, ip));
  if (metadata) return metadata.label;
  if (!ip.v6) return V4.find((r) => inRange(r, ip))?.label;
  const embedded = embeddedV4(ip);
  if (embedded) {
    const label = forbiddenRange(embedded);
    return label && `${label} (IPv4 ${embedded} in IPv6 form)`;
  }
  const special = V6.find((r) => inRange(r, ip));
  if (special) return special.label;
  return inRange(GLOBAL_UNICAST_V6, ip) ? undefined : "reserved";
}

export function isMetadataAddress(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  const embedded = embeddedV4(ip);
  return embedded ? isMetadataAddress(embedded) : METADATA.some((r) => inRange(r, ip));
}

/** The host of a URL as a plain name or address: lower case, no brackets, no trailing dot. */
export function normalizeHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

const HOST_RE = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * WEBHOOK_ALLOWED_HOSTS: comma-separated host names (exact, or `*.example.internal` for subdomains),
 * IP addresses and CIDR ranges that deliveries may reach although the guard would refuse them
 * (development, tests, a receiver on the private network). Metadata endpoints stay refused.
 */
export class AllowList {
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly ranges: Range[] = [];

  /** Throws an Error naming the bad entry. */
  constructor(spec: string) {
    for (const raw of spec.split(",")) {
      const entry = normalizeHost(raw.trim());
      if (!entry) continue;
      if (/^[\d.]+(\/\d+)?$/.test(entry) || entry.includes(":")) this.ranges.push(range(entry));
      else if (HOST_RE.test(entry) && entry.startsWith("*.")) this.suffixes.push(entry.slice(1));
      else if (HOST_RE.test(entry)) this.hosts.add(entry);
      else throw new Error(`"${raw.trim()}" is not a host name, IP address or CIDR range`);
    }
  }

  get empty(): boolean {
    return this.hosts.size === 0 && this.suffixes.length === 0 && this.ranges.length === 0;
  }

  allowsHost(host: string): boolean {
    const name = normalizeHost(host);
    return this.hosts.has(name) || this.suffixes.some((s) => name.endsWith(s));
  }

  allowsAddress(address: string): boolean {
    const ip = parseIp(address);
    if (!ip) return false;
    const embedded = embeddedV4(ip);
    const inner = embedded ? parseIp(embedded) : undefined;
    return this.ranges.some((r) => inRange(r, ip) || (inner !== undefined && inRange(r, inner)));
  }
}
