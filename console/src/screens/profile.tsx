import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { ME_QUERY, UPDATE_ME } from "../lib/ops-more";
import { ErrorText, Field, Panel } from "../ui/forms";

interface Me {
  id: string;
  username: string;
  email: string;
  fullName: string | null;
  phone: string | null;
  bio: string | null;
  notificationSettings: { enabled: boolean; email: boolean; push: boolean };
}

export function Profile() {
  const [{ data, error }] = useQuery<{ me: Me }>({ query: ME_QUERY });
  const [form, setForm] = useState({ username: "", email: "", fullName: "", phone: "", bio: "" });
  const [settings, setSettings] = useState({ enabled: true, email: true, push: true });
  const [saved, save] = useMutation<{ updateMe: Me }>(UPDATE_ME);
  useEffect(() => {
    if (!data) return;
    const { me } = data;
    setForm({ username: me.username, email: me.email, fullName: me.fullName ?? "", phone: me.phone ?? "", bio: me.bio ?? "" });
    setSettings(me.notificationSettings);
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
