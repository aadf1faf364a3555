import { useState } from "preact/hooks";
import { useMutation } from "@urql/preact";
import { LOGIN, REGISTER, REQUEST_RESET, RESET } from "../lib/ops";
import { navigate, onLinkClick } from "../lib/router";
import { setSession, type Session } from "../lib/session";
import { ErrorText, Field } from "../ui/forms";

function Card({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <main class="auth" id="main">
      <h1>ThingsNXT</h1>
      <section class="panel">
        <h2>{title}</h2>
        {children}
      </section>
    </main>
  );
}

const Link = ({ href, text }: { href: string; text: string }) => (
  <a href={href} onClick={onLinkClick}>
    {text}
  </a>
);

export function Login() {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [result, run] = useMutation<{ login: Session }>(LOGIN);
  const submit = async (e: Event) => {
    e.preventDefault();
    const { data } = await run({ input: { login, password } });
    if (data) {
      setSession(data.login);
      navigate("/", true);
    }
  };
  return (
    <Card title="Log in">
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Email or username" value={login} onValue={setLogin} autoComplete="username" required />
        <Field label="Password" type="password" value={password} onValue={setPassword} autoComplete="current-password" required />
        <ErrorText error={result.error} />
        <button type="submit" disabled={result.fetching}>
          Log in
        </button>
      </form>
      <p>
        <Link href="/console/signup" text="Create an account" /> · <Link href="/console/forgot-password" text="Forgot your password?" />
      </p>
    </Card>
  );
}

export function Signup() {
  const [form, setForm] = useState({ email: "", username: "", password: "", fullName: "" });
  const set = (key: keyof typeof form) => (value: string) => setForm({ ...form, [key]: value });
  const [result, run] = useMutation<{ register: Session }>(REGISTER);
  const submit = async (e: Event) => {
    e.preventDefault();
    const { data } = await run({ input: { ...form, fullName: form.fullName || undefined } });
    if (data) {
      setSession(data.register);
      navigate("/console/devices", true);
    }
  };
  return (
    <Card title="Create an account">
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Email" type="email" value={form.email} onValue={set("email")} autoComplete="email" required />
        <Field label="Username" value={form.username} onValue={set("username")} autoComplete="username" required />
        <Field label="Full name (optional)" value={form.fullName} onValue={set("fullName")} autoComplete="name" />
        <Field label="Password" type="password" value={form.password} onValue={set("password")} autoComplete="new-password" required />
        <p class="hint">8 to 72 characters with a lower case letter, an upper case letter and a digit.</p>
        <ErrorText error={result.error} />
        <button type="submit" disabled={result.fetching}>
          Sign up
        </button>
      </form>
      <p>
        <Link href="/console/login" text="I have an account" />
      </p>
    </Card>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [result, run] = useMutation<{ requestPasswordReset: boolean }>(REQUEST_RESET);
  return (
    <Card title="Reset your password">
      {result.data ? (
        <p role="status">If an account has this email, a reset link is on its way. It works once, for one hour.</p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run({ email });
          }}
        >
          <Field label="Email" type="email" value={email} onValue={setEmail} autoComplete="email" required />
          <ErrorText error={result.error} />
          <button type="submit" disabled={result.fetching}>
            Send the link
          </button>
        </form>
      )}
      <p>
        <Link href="/console/login" text="Back to log in" />
      </p>
    </Card>
  );
}

/** The target of the reset mail's link (PASSWORD_RESET_URL): /reset-password?token=... */
export function ResetPassword({ token }: { token: string }) {
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [result, run] = useMutation<{ resetPassword: boolean }>(RESET);
  const mismatch = again !== "" && again !== password;
  return (
    <Card title="Choose a new password">
      {!token ? <ErrorText error="This link has no token: use the link of the mail as it is." /> : null}
      {result.data?.resetPassword ? (
        <p role="status">
          Your password is changed and every session of the account is signed out. <Link href="/console/login" text="Log in" />
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!mismatch) void run({ token, newPassword: password });
          }}
        >
          <Field label="New password" type="password" value={password} onValue={setPassword} autoComplete="new-password" required />
          <Field label="New password again" type="password" value={again} onValue={setAgain} autoComplete="new-password" required />
          <ErrorText error={mismatch ? "The two passwords differ." : result.error} />
          <button type="submit" disabled={result.fetching || !token}>
            Set the password
          </button>
        </form>
      )}
    </Card>
  );
}
