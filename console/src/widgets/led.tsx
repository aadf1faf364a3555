import { useMutation } from "@urql/preact";
import { numberOf } from "../lib/format";
import { SET_WIDGET } from "../lib/ops";
import type { Widget } from "../lib/types";
import { ErrorText } from "../ui/forms";

/**
 * The app's switch. Its value is the pin's merged value (what the device is asked to hold); it stays
 * "pending" until the device reports that pin with the commanded value (desired vs reported).
 */
export function Led({ w, onChange }: { w: Widget; onChange(w: Widget): void }) {
  const [result, set] = useMutation<{ setWidgetState: Widget }>(SET_WIDGET);
  const on = (numberOf(w.value) ?? 0) !== 0;
  const toggle = async () => {
    const { data } = await set({ id: w.id, state: on ? 0 : 1 });
    if (data) onChange(data.setWidgetState);
  };
  return (
    <div class="led-box">
      <button
        type="button"
        role="switch"
        aria-checked={on}
        aria-label={`${w.label} (${w.virtualPin ?? "pin"})`}
        class={`switch ${on ? "on" : ""}`}
        disabled={result.fetching}
        onClick={() => void toggle()}
      >
        <span class="knob" aria-hidden="true" />
      </button>
      <span class="led-state" aria-live="polite">
        {on ? "on" : "off"}
        {w.pending ? <span class="pending"> pending</span> : null}
      </span>
      <small class="muted">{w.virtualPin}</small>
      <ErrorText error={result.error} />
    </div>
  );
}
