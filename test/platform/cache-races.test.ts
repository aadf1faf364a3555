import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadingCache } from "../../src/platform/loading-cache.js";
import { hashToken } from "../../src/platform/secrets.js";
import { DeviceDirectory } from "../../src/services/devices/device-directory.service.js";
import { StateWriter } from "../../src/services/telemetry/state-writer.js";
import { createDevice, createUser, startTestServer, type TestServer } from "../helpers/server.js";

/**
 * The two races of the old per-service caches, replayed against a real PostgreSQL: the first query
 * reads the row, then its answer is held back until the test has changed the row elsewhere.
 */
function heldPool(pool: Pool): { pool: Pool; release(): void; read: Promise<void> } {
  let release!: () => void;
  let signalRead!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const read = new Promise<void>((resolve) => (signalRead = resolve));
  let first = true;
  const proxy = {
    query: async (...args: Parameters<Pool["query"]>) => {
      const result = await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
      if (first) {
        first = false;
        signalRead();
        await gate;
      }
      return result;
    },
  } as unknown as Pool;
  return { pool: proxy, release, read };
}

describe("one loading cache: a change elsewhere wins over a load in flight", () => {
  let server: TestServer;
  let owner: string;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await createUser(server);
  });
  afterAll(() => server?.stop());

  it("StateWriter.read: a remote change during a load is seen by the next read, not the old row", async () => {
    const device = await createDevice(server, owner);
    const held = heldPool(server.services.pool);
    const writer = new StateWriter(held.pool);
    const first = writer.read(device.id); // reads the row without desired values, then is held
    await held.read;
    // Another process commits a command and its event arrives here: forget.
    await server.services.pool.query(
      `UPDATE device_state SET desired = '{"v0":{"value":true,"version":1,"setAt":1,"deliveredAt":null}}', version = version + 1 WHERE device_id = $1`,
      [device.id],
    );
    writer.forget(device.id);
    held.release();
    expect(Object.keys((await first)!.desired)).toEqual([]); // asked before the change
    const next = await writer.read(device.id);
    expect(next!.desired).toHaveProperty("v0"); // the old code cached the first answer: {}
  });

  it("DeviceDirectory: a request just after a token rotation does not join the look-up of the old token", async () => {
    const device = await createDevice(server, owner);
    const held = heldPool(server.services.pool);
    const directory = new DeviceDirectory(held.pool);
    const before = directory.findByToken(device.token); // started before the rotation, held
    await held.read;
    await server.services.pool.query(`UPDATE devices SET token_hash = $2 WHERE id = $1`, [device.id, hashToken("rotated-token")]);
    directory.forget(device.id); // DeviceCredentialsChanged
    const after = directory.findByToken(device.token); // the old code joined `before` and accepted it
    held.release();
    expect((await before)?.id).toBe(device.id);
    expect(await after).toBeUndefined();
    expect(await directory.findByToken(device.token)).toBeUndefined();
    expect((await directory.findByToken("rotated-token"))?.id).toBe(device.id);
  });
});

describe("LoadingCache", () => {
  it("shares one load among callers, caches it, and reloads after forget", async () => {
    let loads = 0;
    const cache = new LoadingCache<string, number>({ load: async () => ++loads });
    const [a, b] = await Promise.all([cache.get("k"), cache.get("k")]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
    expect(await cache.get("k")).toBe(1);
    cache.forget("k");
    expect(await cache.get("k")).toBe(2);
  });

  it("a set during a load wins; undefined is not cached; a failed load is not joined afterwards", async () => {
    let release!: (v: number) => void;
    const cache = new LoadingCache<string, number>({ load: () => new Promise<number>((r) => (release = r)) });
    const pending = cache.get("k");
    cache.set("k", 42);
    release(1);
    expect(await pending).toBe(42);
    expect(cache.peek("k")).toBe(42);

    let calls = 0;
    const missing = new LoadingCache<string, number>({ load: async () => (++calls === 1 ? Promise.reject(new Error("down")) : undefined) });
    await expect(missing.get("x")).rejects.toThrow("down");
    expect(await missing.get("x")).toBeUndefined();
    expect(await missing.get("x")).toBeUndefined();
    expect(calls).toBe(3);
  });

  it("evicts least recently used beyond max and expires after ttl", async () => {
    const cache = new LoadingCache<string, string>({ max: 2, ttlMs: 50, load: async (k) => k.toUpperCase() });
    await cache.get("a");
    await cache.get("b");
    await cache.get("c");
    expect(cache.peek("a")).toBeUndefined();
    expect(cache.peek("c")).toBe("C");
    await new Promise((r) => setTimeout(r, 80));
    expect(cache.peek("c")).toBeUndefined();
  });

  it("getMany: cached from memory, the rest in one batch, joined by single gets", async () => {
    const batches: string[][] = [];
    const cache = new LoadingCache<string, string>({ load: async (k) => `one:${k}` });
    await cache.get("a");
    const many = cache.getMany(["a", "b", "c", "b"], async (keys) => {
      batches.push(keys);
      return new Map(keys.map((k) => [k, `many:${k}`]));
    });
    const single = cache.get("b");
    expect([...(await many).entries()]).toEqual([
      ["a", "one:a"],
      ["b", "many:b"],
      ["c", "many:c"],
    ]);
    expect(await single).toBe("many:b");
    expect(batches).toEqual([["b", "c"]]);
  });
});
