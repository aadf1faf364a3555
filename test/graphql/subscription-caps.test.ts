import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, type Account } from "../helpers/graphql.js";
import { sleep, startTestServer, type TestServer } from "../helpers/server.js";
import { connect, execute } from "../helpers/ws.js";
import { openStream, readFrames } from "./clients.js";

/**
 * Subscriptions are capped per socket (SUBSCRIPTIONS_PER_SOCKET, 100) and per user over all sockets
 * and SSE streams of a process (SUBSCRIPTIONS_PER_USER, 500). Over the cap one subscribe is refused
 * with RATE_LIMITED; the socket stays open, and a completed subscription frees its slot.
 */
const QUERY = `subscription { notificationAdded { title } }`;

type Errors = Array<{ message: string; extensions?: { code?: string } }>;

interface Sub {
  events: unknown[];
  /** The errors of a refusal; stays pending while the subscription runs. */
  refused: Promise<Errors>;
  complete(): void;
}

function sub(client: Client): Sub {
  const events: unknown[] = [];
  let onRefused!: (errors: Errors) => void;
  const refused = new Promise<Errors>((resolve) => (onRefused = resolve));
  const complete = client.subscribe({ query: QUERY }, { next: (v) => events.push(v.data), error: (e) => onRefused(e as Errors), complete: () => undefined });
  return { events, refused, complete };
}

const within = <T>(promise: Promise<T>, ms = 300) => Promise.race([promise, sleep(ms).then(() => "still open" as const)]);

async function connected(server: TestServer, account: Account): Promise<Client> {
  const { client } = connect(server.url, { authorization: `Bearer ${account.accessToken}` });
  await new Promise<void>((resolve) => client.on("connected", () => resolve()));
  return client;
}

const notify = (server: TestServer, account: Account, title: string) =>
  server.services.notifications.notify(account.userId, { type: "info", title, message: "m" });

async function until(what: string, probe: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let server: TestServer;
let alice: Account;
let bob: Account;
beforeAll(async () => {
  server = await startTestServer();
  [alice, bob] = await Promise.all([signUp(server.url), signUp(server.url)]);
});
afterAll(() => server?.stop());

describe("per socket (default 100)", () => {
  it("refuses the 101st subscription of a socket, keeps the socket, and frees completed slots", async () => {
    const client = await connected(server, alice);
    const subs = Array.from({ length: 101 }, () => sub(client));
    const errors = await within(subs[100]!.refused, 3000);
    expect(errors).toEqual([
      {
        message: "Too many subscriptions on this socket: at most 100 at a time (SUBSCRIPTIONS_PER_SOCKET); complete some first",
        extensions: { code: "RATE_LIMITED" },
      },
    ]);
    expect(await within(subs[99]!.refused, 50)).toBe("still open");
    // The socket still answers, and a completed subscription gives its slot back.
    expect((await execute(client, `{ me { id } }`)).data).toEqual({ me: { id: alice.userId } });
    subs[0]!.complete();
    await sleep(50);
    const again = sub(client);
    await sleep(50);
    await notify(server, alice, "to all");
    await until("the event on every open subscription", () => again.events.length === 1 && subs.slice(1, 100).every((s) => s.events.length === 1));
    expect(subs[0]!.events).toEqual([]);
    await client.dispose();
  });
});

describe("per user, over sockets and SSE streams (SUBSCRIPTIONS_PER_USER=3, SUBSCRIPTIONS_PER_SOCKET=2)", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ SUBSCRIPTIONS_PER_USER: "3", SUBSCRIPTIONS_PER_SOCKET: "2" }, server.databaseUrl);
  });
  afterAll(() => small?.close());

  it("counts a user's subscriptions on every socket and stream together, and frees them when they end", async () => {
    const first = await connected(small, alice);
    const [a, b, c] = [sub(first), sub(first), sub(first)];
    expect((await c.refused)[0]!.message).toMatch(/^Too many subscriptions on this socket: at most 2 .*SUBSCRIPTIONS_PER_SOCKET/);
    const second = await connected(small, alice);
    const [d, e] = [sub(second), sub(second)];
    expect((await e.refused)[0]).toMatchObject({
      message: expect.stringMatching(/^Too many subscriptions for this user: at most 3 .*SUBSCRIPTIONS_PER_USER/),
      extensions: { code: "RATE_LIMITED" },
    });

    // An SSE stream is counted too: refused with an error result, then complete.
    const refusedStream = openStream(small.url, alice.accessToken, QUERY);
    const refusal = await readFrames(await refusedStream.response, 2000);
    expect(refusal.map((frame) => frame.event)).toEqual(["next", "complete"]);
    expect(refusal[0]!.data.errors[0]).toMatchObject({ message: expect.stringMatching(/SUBSCRIPTIONS_PER_USER/), extensions: { code: "RATE_LIMITED" } });

    // Another user has slots of their own.
    const bobs = openStream(small.url, bob.accessToken, QUERY);
    const bobFrames = readFrames(await bobs.response, 3000, 1);
    await sleep(100);
    await notify(small, bob, "for bob");
    expect((await bobFrames)[0]).toMatchObject({ event: "next", data: { data: { notificationAdded: { title: "for bob" } } } });
    bobs.close();

    // Closing a socket gives its two slots back: an SSE stream and one more subscription fit.
    await first.dispose();
    await sleep(100);
    const stream = openStream(small.url, alice.accessToken, QUERY);
    const frames = readFrames(await stream.response, 3000, 1);
    const f = sub(second);
    expect(await within(f.refused)).toBe("still open");
    await notify(small, alice, "after close");
    expect((await frames)[0]).toMatchObject({ event: "next", data: { data: { notificationAdded: { title: "after close" } } } });
    await until("the event on the socket's subscriptions", () => d.events.length === 1 && f.events.length === 1);
    expect([a.events, b.events]).toEqual([[], []]);

    // The stream ended: its slot is free again (d, f and g), and no more.
    stream.close();
    await sleep(100);
    const third = await connected(small, alice);
    const g = sub(third);
    expect(await within(g.refused)).toBe("still open");
    expect((await sub(third).refused)[0]!.message).toMatch(/SUBSCRIPTIONS_PER_USER/);
    await Promise.all([second.dispose(), third.dispose()]);
  });
});
