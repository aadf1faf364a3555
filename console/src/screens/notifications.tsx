import { useEffect } from "preact/hooks";
import { useMutation, useQuery, useSubscription } from "@urql/preact";
import { dateTime } from "../lib/format";
import { DELETE_NOTIFICATION, MARK_ALL_READ, MARK_READ, NOTIFICATION_ADDED, NOTIFICATIONS } from "../lib/ops-more";
import type { Notification } from "../lib/types";
import { act, ErrorText } from "../ui/forms";

export function Notifications() {
  const [{ data, error }, refetch] = useQuery<{ notifications: { unreadCount: number; edges: Array<{ node: Notification }> } }>({
    query: NOTIFICATIONS,
    variables: { first: 50 },
  });
  const [added] = useSubscription<{ notificationAdded: Notification }>({ query: NOTIFICATION_ADDED });
  useEffect(() => {
    if (added.data) refetch({ requestPolicy: "network-only" });
  }, [added.data]);
  const [, markRead] = useMutation(MARK_READ);
  const [, markAll] = useMutation(MARK_ALL_READ);
  const [, remove] = useMutation(DELETE_NOTIFICATION);
  const again = () => refetch({ requestPolicy: "network-only" });
  const list = data?.notifications.edges.map((e) => e.node) ?? [];
  return (
    <>
      <h1>Notifications</h1>
      <ErrorText error={error} />
      <p class="inline">
        <span>{data?.notifications.unreadCount ?? 0} unread</span>
        <button type="button" class="secondary" onClick={act(async () => (await markAll({}), again()))}>
          Mark all read
        </button>
      </p>
      {list.length === 0 ? <p>Nothing yet: devices going offline, rules and schedules notify you here.</p> : null}
      <ul class="notifications">
        {list.map((n) => (
          <li key={n.id} class={n.read ? "read" : "unread"}>
            <strong>{n.title}</strong> <small class="muted">{dateTime(n.createdAt)}</small>
            <p>{n.message}</p>
            {!n.read ? (
              <button type="button" class="link" onClick={act(async () => (await markRead({ id: n.id }), again()))}>
                mark read
              </button>
            ) : null}
            <button type="button" class="link" onClick={act(async () => (await remove({ id: n.id }), again()))}>
              delete
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
