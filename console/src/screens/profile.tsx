import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { ME_QUERY, UPDATE_ME } from "../lib/ops-more";
import { browserZone } from "../lib/time-zone";
import { ErrorText, Field, Panel } from "../ui/forms";

/** The IANA zones the browser knows, for the time zone field's suggestions. */
const ZONES: string[] = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];

function TimeZoneField({ value, onValue }: { value: string; onValue(v: string): void }) {
  return (
    <label class="field">
      <span>Time zone</span>
      <input list="time-zones" value={value} placeholder={`${browserZone()} (this browser's)`} onInput={(e) => onValue(e.currentTarget.value)} />
      <datalist id="time-zones">
        {ZONES.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <small class="muted">Charts, their day buckets and CSV exports use it; when empty, this browser's zone.</small>
    </label>
  );
}

interface Me {
  id: string;
  username: string;
  email: string;
  fullName: string | null;
  phone: string | null;
  bio: string | null;
  timeZone: string | null;
  notificationSettings: { enabled: boolean; email: boolean; push: boolean };
}

export function Profile() {
  const [{ data, error }] = useQuery<{ me: Me }>({ query: ME_QUERY });
  const [form, setForm] = useState({ username: "", email: "", fullName: "", phone: "", bio: "", timeZone: "" });
  const [settings, setSettings] = useState({ enabled: true, email: true, push: true });
  const [saved, save] = useMutation<{ updateMe: Me }>(UPDATE_ME);
  useEffect(() => {
    if (!data) return;
    const { me } = data;
    setForm({ username: me.username, email: me.email, fullName: me.fullName ?? "", phone: me.phone ?? "", bio: me.bio ?? "", timeZone: me.timeZone ?? "" });
    // Only the input's fields: the answer also carries __typename, which the input type refuses.
    const { enabled, email, push } = me.notificationSettings;
    setSettings({ enabled, email, push });
  }, [data]);
  const set = (key: keyof typeof form) => (value: string) => setForm({ ...form, [key]: value });
  const box = (key: keyof typeof settings, text: string) => (
    <label class="check">
      <input type="checkbox" checked={settings[key]} onChange={(e) => setSettings({ ...settings, [key]: e.currentTarget.checked })} /> {text}
    </label>
  );
  return (
    <>
      <h1>Profile</h1>
      <ErrorText error={error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save({ input: { ...form, notificationSettings: settings } });
        }}
      >
        <Panel title="Account">
          <Field label="Username" value={form.username} onValue={set("username")} required />
          <Field label="Email" type="email" value={form.email} onValue={set("email")} required />
          <Field label="Full name" value={form.fullName} onValue={set("fullName")} />
          <Field label="Phone" type="tel" value={form.phone} onValue={set("phone")} />
          <Field label="Bio" value={form.bio} onValue={set("bio")} />
          <TimeZoneField value={form.timeZone} onValue={set("timeZone")} />
        </Panel>
        <Panel title="Notification settings">
          {box("enabled", "Notifications on")}
          {box("email", "By email")}
          {box("push", "Push")}
        </Panel>
        <ErrorText error={saved.error} />
        {saved.data ? <p role="status">Saved.</p> : null}
        <button type="submit" disabled={saved.fetching}>
          Save profile
        </button>
      </form>
    </>
  );
}
