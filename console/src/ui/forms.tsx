import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useState } from "preact/hooks";
import { messageOf } from "../lib/format";

interface InputProps {
  label: string;
  value: string;
  onValue(value: string): void;
  type?: "text" | "email" | "password" | "number" | "url" | "tel" | "datetime-local";
  required?: boolean;
  autoComplete?: string;
  maxLength?: number;
  placeholder?: string;
  min?: string;
  max?: string;
}

/** A labelled input: the label is the accessible name. */
export function Field({ label, value, onValue, type = "text", ...rest }: InputProps) {
  return (
    <label class="field">
      <span>{label}</span>
      {/* Preact's input types are a union keyed by `type`; these props fit every member. */}
      <input {...({ ...rest, type } as InputHTMLAttributes<HTMLInputElement>)} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}

export function Select({ label, value, onValue, options }: { label: string; value: string; onValue(v: string): void; options: Array<[string, string]> }) {
  return (
    <label class="field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onValue(e.currentTarget.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ErrorText({ error }: { error: Parameters<typeof messageOf>[0] | string }) {
  const text = typeof error === "string" ? error : messageOf(error);
  return text ? (
    <p class="error" role="alert">
      {text}
    </p>
  ) : null;
}

export function Panel({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel" aria-label={title}>
      <header class="panel-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** Copies text to the clipboard; says so for screen readers too. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard refused (http on another host): select the text for a manual copy.
      const range = document.createRange();
      const node = document.querySelector(`[data-copy="${CSS.escape(text)}"]`);
      if (node) {
        range.selectNodeContents(node);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <button type="button" class="secondary" onClick={() => void copy()} aria-live="polite">
      {done ? "Copied" : label}
    </button>
  );
}

/** Asks before a destructive action. */
export function confirmed(question: string): boolean {
  return window.confirm(question);
}

/** An async event handler as the void one JSX expects; urql reports failures in its results. */
export const act =
  <A extends unknown[]>(fn: (...args: A) => Promise<unknown>) =>
  (...args: A): void =>
    void fn(...args);
