import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/platform/config.js";
import { AllowList, forbiddenRange, RefusedTarget, resolveTarget, type LookupAll } from "../../src/services/automation/webhooks/ssrf.js";

describe("forbiddenRange", () => {
  it.each([
    // IPv4
    ["0.0.0.0", "unspecified (0.0.0.0/8)"],
    ["0.1.2.3", "unspecified (0.0.0.0/8)"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.5", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared address space (CGNAT)"],
    ["100.127.255.255", "shared address space (CGNAT)"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "a cloud metadata endpoint"],
    ["169.254.170.2", "a cloud metadata endpoint"],
    ["100.100.100.200", "a cloud metadata endpoint"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.10", "reserved for documentation"],
    ["198.51.100.7", "reserved for documentation"],
    ["203.0.113.9", "reserved for documentation"],
    ["198.18.0.1", "reserved for benchmarking"],
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fc00::1", "private (unique local)"],
    ["fd12:3456:789a::1", "private (unique local)"],
    ["fd00:ec2::254", "a cloud metadata endpoint"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fec0::1", "private (site-local)"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved for documentation"],
    ["2001::1", "reserved (Teredo)"],
    ["2002:c0a8:101::1", "reserved (6to4)"],
    ["100::1", "reserved"],
    ["::2", "reserved"],
    // IPv4 in IPv6 form: judged by the IPv4 address inside
    ["::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1 in IPv6 form)"],
    ["::ffff:7f00:1", "loopback (IPv4 127.0.0.1 in IPv6 form)"],
    ["::ffff:10.0.0.5", "private (IPv4 10.0.0.5 in IPv6 form)"],
    ["::ffff:a9fe:a9fe", "a cloud metadata endpoint (IPv4 169.254.169.254 in IPv6 form)"],
    ["0:0:0:0:0:ffff:c0a8:0101", "private (IPv4 192.168.1.1 in IPv6 form)"],
    ["64:ff9b::a00:5", "private (IPv4 10.0.0.5 in IPv6 form)"],
    ["64:ff9b::7f00:1", "loopback (IPv4 127.0.0.1 in IPv6 form)"],
    ["64:ff9b:1::1", "private (local NAT64)"],
    // not an address
    ["example.com", "not an IP address"],
    ["", "not an IP address"],
  ])("refuses %s: %s", (address, why) => {
    expect(forbiddenRange(address)).toBe(why);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "169.253.255.255",
    "11.0.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("lets the public address %s through", (address) => {
    expect(forbiddenRange(address)).toBeUndefined();
  });

  it("sees the forms the URL parser normalises (decimal, hex, short IPv4; IPv6 spellings)", () => {
    const hostOf = (url: string) => new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
    expect(hostOf("http://2130706433/")).toBe("127.0.0.1");
    expect(hostOf("http://0x7f.1/")).toBe("127.0.0.1");
    expect(hostOf("http://017700000001/")).toBe("127.0.0.1");
    expect(hostOf("http://10.1/")).toBe("10.0.0.1");
    for (const url of ["http://2130706433/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://[0:0::1]/", "http://0/"]) {
      expect({ url, why: forbiddenRange(hostOf(url)) }).toEqual({ url, why: expect.any(String) });
    }
  });
});

describe("AllowList", () => {
  it("matches exact hosts, *.suffixes, addresses and CIDR ranges (also IPv4-mapped)", () => {
    const allow = new AllowList(" 127.0.0.1/32 , Localhost., *.hooks.internal, 10.1.0.0/16, ::1, fd00::/8 ");
    expect(allow.empty).toBe(false);
    expect(allow.allowsHost("localhost")).toBe(true);
    expect(allow.allowsHost("LOCALHOST.")).toBe(true);
    expect(allow.allowsHost("a.hooks.internal")).toBe(true);
    expect(allow.allowsHost("hooks.internal")).toBe(false);
    expect(allow.allowsHost("evilhooks.internal")).toBe(false);
    expect(allow.allowsHost("example.com")).toBe(false);
    expect(allow.allowsAddress("127.0.0.1")).toBe(true);
    expect(allow.allowsAddress("127.0.0.2")).toBe(false);
    expect(allow.allowsAddress("::ffff:127.0.0.1")).toBe(true);
    expect(allow.allowsAddress("10.1.200.3")).toBe(true);
    expect(allow.allowsAddress("10.2.0.1")).toBe(false);
    expect(allow.allowsAddress("::1")).toBe(true);
    expect(allow.allowsAddress("fd12::1")).toBe(true);
    expect(allow.allowsAddress("fc00::1")).toBe(false);
    expect(new AllowList("").empty).toBe(true);
    expect(new AllowList(" , ").empty).toBe(true);
  });

  it.each(["10.0.0.0/33", "::1/129", "300.1.1.1", "not a host", "http://x", "1.2.3", "a..b", "*"])("refuses the entry %s", (entry) => {
    expect(() => new AllowList(entry)).toThrow(/is not (a host name, IP address or CIDR range|an IP address or CIDR range)/);
  });

  it("is validated by the config at start, naming the variable", () => {
    expect(() => loadConfig({ WEBHOOK_ALLOWED_HOSTS: "127.0.0.1/32,10.0.0.0/99" })).toThrow(
      'WEBHOOK_ALLOWED_HOSTS: "10.0.0.0/99" is not an IP address or CIDR range',
    );
    expect(loadConfig({ WEBHOOK_ALLOWED_HOSTS: " 127.0.0.1/32, localhost " }).webhooks.allowedHosts).toEqual(["127.0.0.1/32", "localhost"]);
    expect(loadConfig({}).webhooks).toEqual({
      allowedHosts: [],
      timeoutMs: 10_000,
      maxAttempts: 6,
      retryBaseMs: 30_000,
      disableAfter: 10,
      concurrency: 10,
      cacheMs: 1000,
      retentionDays: 7,
    });
  });
});

describe("resolveTarget", () => {
  const dns =
    (answers: Record<string, string[]>): LookupAll =>
    async (host) => {
      const found = answers[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
  const none = new AllowList("");
  const refused = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RefusedTarget);
    return (error as Error).message;
  };

  it("returns the first vetted address of a public name", async () => {
    await expect(resolveTarget("hooks.example.com", none, dns({ "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"] }))).resolves.toEqual({
      address: "93.184.216.34",
      family: 4,
    });
    await expect(resolveTarget("[2606:2800:220:1::1]", none, dns({}))).resolves.toEqual({ address: "2606:2800:220:1::1", family: 6 });
  });

  it("refuses literal addresses with the reason", async () => {
    expect(await refused(resolveTarget("10.0.0.5", none, dns({})))).toBe("address 10.0.0.5 is private");
    expect(await refused(resolveTarget("[::1]", none, dns({})))).toBe("address ::1 is loopback");
    expect(await refused(resolveTarget("169.254.169.254", none, dns({})))).toBe("address 169.254.169.254 is a cloud metadata endpoint");
  });

  it("refuses a name when any of its addresses is refused", async () => {
    const lookup = dns({ "rebind.example": ["93.184.216.34", "10.0.0.7"], localhost: ["::1", "127.0.0.1"], "six.example": ["::ffff:192.168.0.1"] });
    expect(await refused(resolveTarget("rebind.example", none, lookup))).toBe("rebind.example resolves to 10.0.0.7, which is private");
    expect(await refused(resolveTarget("localhost", none, lookup))).toBe("localhost resolves to ::1, which is loopback");
    expect(await refused(resolveTarget("six.example", none, lookup))).toBe(
      "six.example resolves to ::ffff:192.168.0.1, which is private (IPv4 192.168.0.1 in IPv6 form)",
    );
  });

  it("refuses metadata host names without resolving them, and metadata addresses even when allow-listed", async () => {
    const allowAll = new AllowList("0.0.0.0/0,::/0,metadata.google.internal,meta.example");
    const lookup = dns({ "meta.example": ["169.254.169.254"] });
    expect(await refused(resolveTarget("metadata.google.internal", allowAll, lookup))).toBe("host metadata.google.internal is a cloud metadata endpoint");
    expect(await refused(resolveTarget("Metadata.Google.Internal.", allowAll, lookup))).toBe("host metadata.google.internal is a cloud metadata endpoint");
    expect(await refused(resolveTarget("meta.example", allowAll, lookup))).toBe("meta.example resolves to 169.254.169.254, a cloud metadata endpoint");
    expect(await refused(resolveTarget("[fd00:ec2::254]", allowAll, lookup))).toBe("address fd00:ec2::254 is a cloud metadata endpoint");
  });

  it("lets allow-listed hosts and ranges through", async () => {
    const lookup = dns({ localhost: ["127.0.0.1"], "box.lan": ["192.168.1.20"], "other.lan": ["192.168.1.21"] });
    await expect(resolveTarget("localhost", new AllowList("127.0.0.1/32"), lookup)).resolves.toEqual({ address: "127.0.0.1", family: 4 });
    await expect(resolveTarget("box.lan", new AllowList("box.lan"), lookup)).resolves.toEqual({ address: "192.168.1.20", family: 4 });
    expect(await refused(resolveTarget("other.lan", new AllowList("box.lan"), lookup))).toBe("other.lan resolves to 192.168.1.21, which is private");
  });

  it("lets a lookup failure through as an ordinary (retryable) error", async () => {
    const error = await resolveTarget("nowhere.invalid", none, dns({})).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RefusedTarget);
    expect((error as Error).message).toContain("ENOTFOUND");
  });
});
