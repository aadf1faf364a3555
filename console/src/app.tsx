import { Provider } from "@urql/preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createApiClient } from "./lib/client";
import { navigate, useLocation } from "./lib/router";
import { getSession, onSession } from "./lib/session";
import { ForgotPassword, Login, ResetPassword, Signup } from "./screens/auth";
import { DashboardPage } from "./screens/dashboard";
import { Dashboards } from "./screens/dashboards";
import { DevicePage } from "./screens/device";
import { Devices } from "./screens/devices";
import { Notifications } from "./screens/notifications";
import { Profile } from "./screens/profile";
import { Releases } from "./screens/releases";
import { Rules } from "./screens/rules";
import { Webhooks } from "./screens/webhooks";
import { Layout } from "./ui/layout";

const PUBLIC = new Set(["/console/login", "/console/signup", "/console/forgot-password", "/reset-password"]);

function Routes({ path, query }: { path: string; query: URLSearchParams }) {
  const id = (prefix: string) => (path.startsWith(prefix) ? path.slice(prefix.length) : undefined);
  if (path === "/console/login") return <Login />;
  if (path === "/console/signup") return <Signup />;
  if (path === "/console/forgot-password") return <ForgotPassword />;
  if (path === "/reset-password") return <ResetPassword token={query.get("token") ?? ""} />;
  let screen;
  if (path === "/" || path === "/console" || path === "/console/dashboards") screen = <Dashboards />;
  else if (id("/console/dashboards/")) screen = <DashboardPage id={id("/console/dashboards/")!} />;
  else if (path === "/console/devices") screen = <Devices />;
  else if (id("/console/devices/")) screen = <DevicePage id={id("/console/devices/")!} />;
  else if (path === "/console/notifications") screen = <Notifications />;
  else if (path === "/console/rules") screen = <Rules />;
  else if (path === "/console/webhooks") screen = <Webhooks />;
  else if (path === "/console/releases") screen = <Releases />;
  else if (path === "/console/profile") screen = <Profile />;
  else screen = <p>Nothing here. </p>;
  return <Layout>{screen}</Layout>;
}

/** One API client per signed-in user: signing out closes its socket and forgets its cache. */
export function App() {
  const { path, query } = useLocation();
  const [session, setSession] = useState(getSession());
  useEffect(() => onSession(setSession), []);
  const userId = session?.user.id ?? "";
  const api = useMemo(() => createApiClient(), [userId]);
  useEffect(() => () => api.dispose(), [api]);

  const open = PUBLIC.has(path);
  useEffect(() => {
    if (!session && !open) navigate("/console/login", true);
  }, [session, open]);
  if (!session && !open) return null;
  return (
    <Provider value={api.client}>
      <Routes path={path} query={query} />
    </Provider>
  );
}
