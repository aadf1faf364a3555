import type { Json } from "./types";

/** Times in the user's own time zone and locale. */
export const dateTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : "never");

export function ago(iso: string | null | undefined): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return dateTime(iso);
}

export function show(value: Json | undefined): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export const numberOf = (value: Json | undefined): number | null => {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
};

/** The message of a urql error without its "[GraphQL]" prefix. */
export const messageOf = (error: { graphQLErrors?: Array<{ message: string }>; message: string } | undefined | null): string =>
  error ? (error.graphQLErrors?.[0]?.message ?? error.message.replace(/^\[\w+\]\s*/, "")) : "";
