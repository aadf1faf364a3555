import { useEffect, useMemo } from "preact/hooks";
import { useQuery, useSubscription } from "@urql/preact";
import { dateTime } from "../lib/format";
import { RELEASE_CHANGED, RELEASES } from "../lib/ops-more";
import type { Release } from "../lib/types";
import { ErrorText } from "../ui/forms";

const OPEN = new Set<Release["status"]>(["ACTIVE", "PAUSED"]);

/** An open release's progress events ask for the counts again (urql de-duplicates a burst). */
function Follow({ releaseId, onChange }: { releaseId: string; onChange(): void }) {
  const [event] = useSubscription<{ firmwareUpdateChanged: { at: string } }>({ query: RELEASE_CHANGED, variables: { releaseId } });
  useEffect(() => {
    if (event.data) onChange();
  }, [event.data]);
  return null;
}

function Progress({ release }: { release: Release }) {
  const { counts } = release;
  const done = counts.updated + counts.failed + counts.rolledBack + counts.timedOut;
  return (
    <meter
      min={0}
      max={Math.max(1, counts.targeted)}
      value={done}
      aria-label={`${release.firmware.title} ${release.firmware.version}: ${done} of ${counts.targeted} finished`}
    />
  );
}

/** Firmware releases with their counts, read-only (releases are made through the API), live while open. */
export function Releases() {
  const context = useMemo(() => ({ additionalTypenames: ["Release"] }), []);
  const [{ data, error, fetching }, refetch] = useQuery<{ releases: Release[] }>({ query: RELEASES, context });
  const releases = data?.releases ?? [];
  const again = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
      <h1>Firmware releases</h1>
      <ErrorText error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {data && releases.length === 0 ? <p>No releases yet: upload a firmware and start a release through the API (see docs/ota.md).</p> : null}
      {releases
        .filter((r) => OPEN.has(r.status))
        .map((r) => (
          <Follow key={r.id} releaseId={r.id} onChange={again} />
        ))}
      {releases.length > 0 ? (
        <div class="table-wrap">
          <table class="releases">
            <caption class="sr-only">Your firmware releases</caption>
            <thead>
              <tr>
                <th scope="col">Firmware</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Targeted</th>
                <th scope="col">Offered</th>
                <th scope="col">Downloading</th>
                <th scope="col">Updated</th>
                <th scope="col">Failed</th>
                <th scope="col">Rolled back</th>
                <th scope="col">Timed out</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {releases.map((r) => (
                <tr key={r.id} data-release={r.id}>
                  <th scope="row">
                    {r.firmware.title} <small class="muted">{r.firmware.version}</small>
                  </th>
                  <td>{r.status.toLowerCase()}</td>
                  <td>
                    <Progress release={r} />
                  </td>
                  <td>{r.counts.targeted}</td>
                  <td>{r.counts.offered}</td>
                  <td>{r.counts.downloading}</td>
                  <td>{r.counts.updated}</td>
                  <td>{r.counts.failed}</td>
                  <td>{r.counts.rolledBack}</td>
                  <td>{r.counts.timedOut}</td>
                  <td title={r.finishedAt ? `finished ${dateTime(r.finishedAt)}` : ""}>{dateTime(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
