import { describe, expect, it } from "vitest";
import { applyDelivered, applyDesired, applyReport, applyWithdraw, emptyState, mergedOf, sameValue } from "./device-state.model.js";

describe("device-state rules", () => {
  const s0 = applyReport(emptyState("d"), { v0: 0, t: 20 }, 1000).next;

  it("keys named like Object.prototype members are plain keys, never pending commands", () => {
    const { next, confirmed, overridden } = applyReport(s0, { toString: 1, valueOf: "x", hasOwnProperty: true }, 2000);
    expect([confirmed, overridden]).toEqual([[], []]);
    expect(next.desired).toEqual({});
    expect(mergedOf(next)).toEqual({ v0: 0, t: 20, toString: 1, valueOf: "x", hasOwnProperty: true });
  });

  it("merged lays pending commands over reported values", () => {
    const s1 = applyDesired(s0, { v0: 1 }, 2000);
    expect(mergedOf(s1)).toEqual({ v0: 1, t: 20 });
    expect(s1.version).toBe(s0.version + 1);
  });

  it("a differing report before delivery is stale, after delivery it wins", () => {
    const pending = applyDesired(s0, { v0: 1 }, 2000);
    const stale = applyReport(pending, { v0: 0 }, 3000);
    expect(stale.next.desired.v0?.value).toBe(1);
    expect(stale.confirmed).toEqual([]);
    const delivered = applyDelivered(stale.next, 4000)!;
    expect(delivered.desired.v0?.deliveredAt).toBe(4000);
    expect(applyDelivered(delivered, 5000)).toBeNull(); // nothing new to deliver: no write
    const own = applyReport(delivered, { v0: 0 }, 5000);
    expect(own.overridden).toEqual(["v0"]);
    expect(own.next.desired).toEqual({});
  });

  it("the same value confirms, whether or not delivered", () => {
    const pending = applyDesired(s0, { v0: 1 }, 2000);
    const r = applyReport(pending, { v0: 1 }, 3000);
    expect(r.confirmed).toEqual(["v0"]);
    expect(r.next.desired).toEqual({});
  });

  it("treats 1/0 and true/false as the same level, and compares JSON deeply", () => {
    expect(sameValue(true, 1)).toBe(true);
    expect(sameValue(0, false)).toBe(true);
    expect(sameValue(2, true)).toBe(false);
    expect(sameValue({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValue([1], { 0: 1 })).toBe(false);
    expect(sameValue("1", 1)).toBe(false);
  });

  it("does not change the state it was given", () => {
    const before = JSON.stringify(s0);
    applyReport(applyDesired(s0, { v0: 1 }, 1), { v0: 0 }, 2);
    expect(JSON.stringify(s0)).toBe(before);
  });
});

describe("applyWithdraw", () => {
  it("drops the pending commands on the keys named, and nothing else", () => {
    const s = applyDesired(applyDesired(emptyState("d"), { ota: { version: "2" } }, 1), { v0: 1 }, 2);
    const next = applyWithdraw(s, ["ota"])!;
    expect(Object.keys(next.desired)).toEqual(["v0"]);
    expect(next.version).toBe(s.version + 1);
    expect(applyWithdraw(next, ["ota"])).toBeNull();
  });
});
