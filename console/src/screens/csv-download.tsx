import { useState } from "preact/hooks";
import { accessToken, refresh } from "../lib/session";
import { ErrorText } from "../ui/forms";

interface Export {
  deviceId: string;
  keys: string[];
  /** Seconds back from now. */
  range: string;
  bucket: string;
  timeZone: string;
}

/** GET /export/telemetry.csv with the access token (a refresh and one retry on a 401). */
async function fetchCsv(e: Export): Promise<Blob> {
  const to = new Date();
  const query = new URLSearchParams({
    deviceId: e.deviceId,
    keys: e.keys.join(","),
    from: new Date(to.getTime() - Number(e.range) * 1000).toISOString(),
    to: to.toISOString(),
    timeZone: e.timeZone,
  });
  if (e.bucket) query.set("bucket", e.bucket);
  const send = (token: string | null) => fetch(`/export/telemetry.csv?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  let response = await send(await accessToken());
  if (response.status === 401) {
    const token = await refresh();
    if (token) response = await send(token);
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { detail?: unknown; message?: unknown } | null;
    throw new Error(String(body?.detail ?? body?.message ?? `The export failed (HTTP ${response.status})`));
  }
  return response.blob();
}

/**
 * The chosen range and bucket of the shown keys as a CSV file. A plain link cannot carry the Bearer
 * header, so the file is fetched and handed to the browser as a Blob download (same origin: the CSP's
 * connect-src 'self' allows it).
 */
export function CsvDownload(props: Export) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const download = async () => {
    setBusy(true);
    setError("");
    try {
      const url = URL.createObjectURL(await fetchCsv(props));
      const link = document.createElement("a");
      link.href = url;
      link.download = `telemetry-${props.deviceId}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="secondary" disabled={busy || props.keys.length === 0} onClick={() => void download()}>
        {busy ? "Preparing CSV…" : "Download CSV"}
      </button>
      <ErrorText error={error} />
    </>
  );
}
