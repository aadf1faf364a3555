import { describe, expect, it } from "vitest";
import { codeOf, gql, signUp, type Account } from "../helpers/graphql.js";
import { ISO_RE } from "../helpers/server.js";
import { useTestServer } from "../helpers/fixture.js";

const ctx = useTestServer({ RATE_LIMIT_MAX: "100000" });

const NODE = `id type title message data read readAt createdAt`;
const LIST = `query ($unreadOnly: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    edges { cursor node { ${NODE} } } pageInfo { hasNextPage endCursor } unreadCount } }`;
const READ = `mutation ($id: ID!) { markNotificationRead(id: $id) { ${NODE} } }`;
const READ_ALL = `mutation { markAllNotificationsRead }`;
const DELETE = `mutation ($id: ID!) { deleteNotification(id: $id) }`;

const notify = (a: Account, n: number) =>
  ctx.server.services.notifications.notify(a.userId, { type: "device_offline", title: `t${n}`, message: `m${n}`, data: { n } });
const list = (a: Account, vars: Record<string, unknown> = {}) => gql(ctx.base, LIST, vars, a.accessToken);

/** Every id the API returns, page by page. */
async function walk(a: Account, first: number, vars: Record<string, unknown> = {}, between?: () => Promise<unknown>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = (await list(a, { ...vars, first, after })).data.notifications;
    ids.push(...page.edges.map((e: any) => e.node.id));
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
    await between?.();
  }
}

describe("notify", () => {
  it("stores a notification that the app lists with its exact shape", async () => {
    const a = await signUp(ctx.base);
    const stored = await ctx.server.services.notifications.notify(a.userId, {
      type: "device_offline",
      title: "Kitchen is offline",
      message: "No report for 60 s",
      data: { deviceId: "d1" },
    });
    expect(stored).toMatchObject({ ownerId: a.userId, type: "device_offline", read: false, readAt: null });
    const res = await list(a);
    expect(res.data.notifications).toEqual({
      edges: [
        {
          cursor: expect.any(String),
          node: {
            id: stored!.id,
            type: "device_offline",
            title: "Kitchen is offline",
            message: "No report for 60 s",
            data: { deviceId: "d1" },
            read: false,
            readAt: null,
            createdAt: expect.stringMatching(ISO_RE),
          },
        },
      ],
      pageInfo: { hasNextPage: false, endCursor: res.data.notifications.edges[0].cursor },
      unreadCount: 1,
    });
  });

  it("stores nothing and returns null when the user turned notifications off", async () => {
    const a = await signUp(ctx.base);
    const off = await gql(
      ctx.base,
      `mutation { updateMe(input: { notificationSettings: { enabled: false } }) { notificationSettings { enabled } } }`,
      {},
      a.accessToken,
    );
    expect(off.data.updateMe.notificationSettings.enabled).toBe(false);
    expect(await notify(a, 1)).toBeNull();
    const { rows } = await ctx.server.services.pool.query(`SELECT count(*)::int AS n FROM notifications WHERE user_id = $1`, [a.userId]);
    expect(rows[0].n).toBe(0);
    await gql(ctx.base, `mutation { updateMe(input: { notificationSettings: { enabled: true } }) { id } }`, {}, a.accessToken);
    expect(await notify(a, 2)).not.toBeNull();
  });

  it("an empty list, and every operation needs a token", async () => {
    const a = await signUp(ctx.base);
    expect((await list(a)).data.notifications).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, unreadCount: 0 });
    for (const [q, v] of [
      [LIST, {}],
      [READ, { id: crypto.randomUUID() }],
      [READ_ALL, {}],
      [DELETE, { id: crypto.randomUUID() }],
    ] as const) {
      expect(codeOf(await gql(ctx.base, q, v))).toBe("UNAUTHENTICATED");
    }
  });
});

describe("pagination", () => {
  it("walks every notification once, newest first, with equal and microsecond-apart times", async () => {
    const a = await signUp(ctx.base);
    const other = await signUp(ctx.base);
    for (let i = 0; i < 23; i++) await notify(a, i);
    await notify(other, 0);
    // Groups of five share a time, except the one with the smallest id: one microsecond later (same
    // JS millisecond), so it comes first and a cursor rounded to milliseconds would skip the other four.
    await ctx.server.services.pool.query(
      `WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM notifications WHERE user_id = $1)
       UPDATE notifications SET created_at = timestamptz '2026-01-01 00:00:00+00' + (numbered.n / 5) * interval '1 second'
         + CASE WHEN numbered.n % 5 = 0 THEN interval '1 microsecond' ELSE interval '0' END
        FROM numbered WHERE notifications.id = numbered.id`,
      [a.userId],
    );
    const { rows } = await ctx.server.services.pool.query(`SELECT id FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, [a.userId]);
    const expected = rows.map((r) => r.id);
    for (const size of [1, 3, 7, 20, 100]) expect(await walk(a, size)).toEqual(expected);
  });

  it("stays stable while new notifications arrive between pages", async () => {
    const a = await signUp(ctx.base);
    for (let i = 0; i < 10; i++) await notify(a, i);
    const before = (await walk(a, 100)).slice();
    let added = 0;
    const seen = await walk(a, 3, {}, async () => (await notify(a, 100 + added++)) && undefined);
    expect(added).toBe(3);
    expect(seen).toEqual(before); // the newer ones belong before the first page, not in the middle
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("defaults to 20, allows 1..100 and refuses a malformed cursor", async () => {
    const a = await signUp(ctx.base);
    for (let i = 0; i < 21; i++) await notify(a, i);
    const first = await list(a);
    expect(first.data.notifications.edges).toHaveLength(20);
    expect(first.data.notifications.pageInfo.hasNextPage).toBe(true);
    for (const n of [0, -1, 101]) {
      expect((await list(a, { first: n })).errors![0]).toMatchObject({ message: "first must be between 1 and 100", extensions: { code: "BAD_USER_INPUT" } });
    }
    const valid = Buffer.from(first.data.notifications.pageInfo.endCursor, "base64url").toString();
    const forged = (text: string) => Buffer.from(text).toString("base64url");
    for (const after of [
      "garbage",
      "",
      forged("2026-01-01T00:00:00.000000Z|not-a-uuid"),
      forged(valid.replace(/^\d{4}-\d{2}-\d{2}/, "2026-02-30")),
      forged(valid.replace(/\.\d{6}Z/, ".000Z")),
    ]) {
      const res = await list(a, { after });
      expect(res.errors![0]).toMatchObject({
        message: "after is not a cursor of this list; pass a pageInfo.endCursor as it was received",
        extensions: { code: "BAD_USER_INPUT" },
      });
    }
  });
});

describe("reading and deleting", () => {
  it("unreadOnly, unreadCount, markNotificationRead (idempotent) and markAllNotificationsRead", async () => {
    const a = await signUp(ctx.base);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await notify(a, i))!.id);
    const read = await gql(ctx.base, READ, { id: ids[1] }, a.accessToken);
    expect(read.data.markNotificationRead).toMatchObject({ id: ids[1], read: true, readAt: expect.stringMatching(ISO_RE) });
    const again = await gql(ctx.base, READ, { id: ids[1] }, a.accessToken);
    expect(again.data.markNotificationRead.readAt).toBe(read.data.markNotificationRead.readAt);

    const unread = await list(a, { unreadOnly: true });
    expect(unread.data.notifications.edges.map((e: any) => e.node.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    expect(unread.data.notifications.unreadCount).toBe(4);
    expect(await walk(a, 1, { unreadOnly: true })).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    expect((await list(a)).data.notifications.edges).toHaveLength(5);

    expect((await gql(ctx.base, READ_ALL, {}, a.accessToken)).data.markAllNotificationsRead).toBe(4);
    expect((await gql(ctx.base, READ_ALL, {}, a.accessToken)).data.markAllNotificationsRead).toBe(0);
    const after = await list(a);
    expect(after.data.notifications.unreadCount).toBe(0);
    expect(after.data.notifications.edges.every((e: any) => e.node.read && ISO_RE.test(e.node.readAt))).toBe(true);
    expect((await list(a, { unreadOnly: true })).data.notifications.edges).toEqual([]);
  });

  it("deletes one notification, then it is gone", async () => {
    const a = await signUp(ctx.base);
    const n = (await notify(a, 1))!;
    expect((await gql(ctx.base, DELETE, { id: n.id }, a.accessToken)).data).toEqual({ deleteNotification: true });
    expect((await gql(ctx.base, DELETE, { id: n.id }, a.accessToken)).errors![0]).toMatchObject({
      message: "Notification not found",
      extensions: { code: "NOT_FOUND" },
    });
    expect(codeOf(await gql(ctx.base, READ, { id: n.id }, a.accessToken))).toBe("NOT_FOUND");
  });

  it("another user's or a malformed id is NOT_FOUND and changes nothing", async () => {
    const a = await signUp(ctx.base);
    const b = await signUp(ctx.base);
    const n = (await notify(a, 1))!;
    for (const id of [n.id, "not-a-uuid", "", crypto.randomUUID()]) {
      for (const q of [READ, DELETE]) {
        expect((await gql(ctx.base, q, { id }, b.accessToken)).errors![0]).toMatchObject({
          message: "Notification not found",
          extensions: { code: "NOT_FOUND" },
        });
      }
    }
    expect((await gql(ctx.base, READ_ALL, {}, b.accessToken)).data.markAllNotificationsRead).toBe(0);
    expect((await list(b)).data.notifications.edges).toEqual([]);
    expect((await list(a)).data.notifications).toMatchObject({ unreadCount: 1, edges: [{ node: { id: n.id, read: false } }] });
  });

  it("an account's deletion removes its notifications", async () => {
    const a = await signUp(ctx.base);
    await notify(a, 1);
    await gql(ctx.base, `mutation { deleteMe }`, {}, a.accessToken);
    const { rows } = await ctx.server.services.pool.query(`SELECT count(*)::int AS n FROM notifications WHERE user_id = $1`, [a.userId]);
    expect(rows[0].n).toBe(0);
  });
});
