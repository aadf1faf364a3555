import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery, useSubscription } from "@urql/preact";
import { LOGOUT } from "../lib/ops";
import { NOTIFICATION_ADDED, UNREAD } from "../lib/ops-more";
import { navigate, onLinkClick, useLocation } from "../lib/router";
import { getSession, setSession } from "../lib/session";

const NAV: Array<[string, string]> = [
  ["/console/dashboards", "Dashboards"],
  ["/console/devices", "Devices"],
  ["/console/rules", "Rules"],
  ["/console/webhooks", "Webhooks"],
  ["/console/releases", "Firmware"],
  ["/console/profile", "Profile"],
];

function UnreadBadge() {
  const [{ data }, refetch] = useQuery<{ notifications: { unreadCount: number } }>({ query: UNREAD });
  const [added] = useSubscription<{ notificationAdded: { id: string } }>({ query: NOTIFICATION_ADDED });
  useEffect(() => {
    if (added.data) refetch({ requestPolicy: "network-only" });
  }, [added.data]);
  const count = data?.notifications.unreadCount ?? 0;
  return (
    <a href="/console/notifications" onClick={onLinkClick} class="nav-link" aria-label={`Notifications, ${count} unread`}>
      Notifications{count > 0 ? <span class="badge">{count}</span> : null}
    </a>
  );
}

/** The signed-in frame: navigation, the unread badge, log out. */
export function Layout({ children }: { children: ComponentChildren }) {
  const { path } = useLocation();
  const [, logout] = useMutation(LOGOUT);
  const [menu, setMenu] = useState(false);
  const signOut = async () => {
    await logout({}).catch(() => undefined);
    setSession(null);
    navigate("/console/login", true);
  };
  return (
    <div class="shell">
      <header class="top">
        <a href="/" onClick={onLinkClick} class="brand">
          ThingsNXT
        </a>
        <button type="button" class="menu-button secondary" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
          Menu
        </button>
        <nav id="nav" class={menu ? "open" : ""} aria-label="Main">
          {NAV.map(([href, text]) => (
            <a key={href} href={href} onClick={onLinkClick} class="nav-link" aria-current={path.startsWith(href) ? "page" : undefined}>
              {text}
            </a>
          ))}
          <UnreadBadge />
          <span class="who">{getSession()?.user.username}</span>
          <button type="button" class="secondary" onClick={() => void signOut()}>
            Log out
          </button>
        </nav>
      </header>
      <main id="main">{children}</main>
    </div>
  );
}
