import { useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { dateTime } from "../lib/format";
import { CANCEL_SCHEDULE, CREATE_SCHEDULE, CREATE_TIMER, SCHEDULES } from "../lib/ops-more";
import { act, ErrorText, Field, Select } from "../ui/forms";

interface Schedule {
  id: string;
  kind: "SCHEDULE" | "TIMER";
  label: string | null;
  state: number;
  status: string;
  executeAt: string;
  result: string | null;
}

/** Timers (after a duration) and schedules (at a time, entered in the user's time zone) of an output widget. */
export function Schedules({ widgetId }: { widgetId: string }) {
  const [{ data }, refetch] = useQuery<{ schedules: Schedule[] }>({ query: SCHEDULES, variables: { widgetId }, requestPolicy: "network-only" });
  const [minutes, setMinutes] = useState("10");
  const [at, setAt] = useState("");
  const [state, setState] = useState("0");
  const [timer, makeTimer] = useMutation(CREATE_TIMER);
  const [schedule, makeSchedule] = useMutation(CREATE_SCHEDULE);
  const [cancelled, cancel] = useMutation(CANCEL_SCHEDULE);
  const again = () => refetch({ requestPolicy: "network-only" });
  return (
    <div class="schedules">
      <Select
        label="Set the switch to"
        value={state}
        onValue={setState}
        options={[
          ["1", "on"],
          ["0", "off"],
        ]}
      />
      <form
        class="inline"
        onSubmit={act(async (e) => {
          e.preventDefault();
          await makeTimer({ widgetId, durationSeconds: Math.round(Number(minutes) * 60), state: Number(state) });
          again();
        })}
      >
        <Field label="after minutes" type="number" min="1" max="1440" value={minutes} onValue={setMinutes} required />
        <button type="submit">Start timer</button>
      </form>
      <form
        class="inline"
        onSubmit={act(async (e) => {
          e.preventDefault();
          await makeSchedule({ widgetId, executeAt: new Date(at).toISOString(), state: Number(state) });
          again();
        })}
      >
        <Field label="at (your time)" type="datetime-local" value={at} onValue={setAt} required />
        <button type="submit">Schedule</button>
      </form>
      <ErrorText error={timer.error ?? schedule.error ?? cancelled.error} />
      <ul>
        {data?.schedules.map((s) => (
          <li key={s.id}>
            {s.kind === "TIMER" ? "Timer" : "Schedule"}: {s.state ? "on" : "off"} at {dateTime(s.executeAt)} · {s.status.toLowerCase()}
            {s.result ? ` (${s.result})` : ""}
            {s.status === "PENDING" ? (
              <button
                type="button"
                class="link"
                onClick={act(async () => {
                  await cancel({ id: s.id });
                  again();
                })}
              >
                cancel
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
