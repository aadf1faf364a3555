import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { AllowList, forbiddenRange, isMetadataAddress, METADATA_HOSTS, normalizeHost } from "../../../platform/net.js";

export { AllowList, forbiddenRange };

/**
 * The SSRF guard of webhook deliveries: which addresses a delivery may connect to. Everything that
 * is not globally routable unicast is refused (loopback, private, link-local, CGNAT, multicast, ...),
 * also inside IPv4-mapped and NAT64 IPv6 forms, and so are cloud metadata endpoints. A name is
 * resolved here and every address it resolves to is checked; the caller then connects to the
 * returned address (not to the name again), so DNS cannot change the answer between check and connect.
 */

/** A delivery that must not be made (and is not retried). */
export class RefusedTarget extends Error {
  override name = "RefusedTarget";
}

export type LookupAll = (host: string) => Promise<Array<{ address: string; family: number }>>;

const systemLookup: LookupAll = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * Resolves the host of a delivery and checks every address it has. Returns the address to connect
 * to; throws RefusedTarget when any address is refused (a name with one bad address among good ones
 * is not used either: which one a client picks is not ours to predict).
 */
export async function resolveTarget(hostname: string, allow: AllowList, lookup: LookupAll = systemLookup): Promise<{ address: string; family: 4 | 6 }> {
  const host = normalizeHost(hostname);
  if (METADATA_HOSTS.has(host)) throw new RefusedTarget(`host ${host} is a cloud metadata endpoint`);
  const literal = isIP(host) !== 0;
  const addresses = literal ? [{ address: host, family: isIP(host) }] : await lookup(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  const hostAllowed = allow.allowsHost(host);
  for (const { address } of addresses) {
    if (isMetadataAddress(address)) {
      throw new RefusedTarget(literal ? `address ${address} is a cloud metadata endpoint` : `${host} resolves to ${address}, a cloud metadata endpoint`);
    }
    if (hostAllowed || allow.allowsAddress(address)) continue;
    const why = forbiddenRange(address);
    if (why) throw new RefusedTarget(literal ? `address ${address} is ${why}` : `${host} resolves to ${address}, which is ${why}`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
