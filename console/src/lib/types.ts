/** The shapes the console reads from the public GraphQL API (schema.graphql). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface DeviceConnection {
  connected: boolean;
  since: string | null;
  transport: "HTTP" | "MQTT";
}
export interface DeviceState {
  deviceId: string;
  reported: JsonObject;
  desired: JsonObject;
  merged: JsonObject;
  reportedAt: string | null;
  version: number;
}
export interface Device {
  id: string;
  name: string;
  type: string | null;
  location: string | null;
  status: "ONLINE" | "OFFLINE";
  lastSeenAt: string | null;
  createdAt: string;
  /** The fw_version the device reports. */
  firmwareVersion: string | null;
  connection: DeviceConnection;
  state: DeviceState;
}
export interface Widget {
  id: string;
  dashboardId: string;
  type: string;
  label: string;
  deviceId: string | null;
  key: string | null;
  virtualPin: string | null;
  value: Json;
  pending: boolean;
  order: number;
  width: number;
  height: number;
  config: JsonObject;
}
export interface Dashboard {
  id: string;
  name: string;
  description: string | null;
  widgetCount: number;
  updatedAt: string;
}
export interface Notification {
  id: string;
  type: string;
  title: string;
  message: string;
  read: boolean;
  createdAt: string;
}
export interface TelemetryPoint {
  ts: string;
  value: Json;
  min: number | null;
  max: number | null;
  avg: number | null;
  count: number | null;
}
export interface TelemetryKey {
  key: string;
  value: Json;
  ts: string | null;
  count: number;
}
export type ReleaseStatus = "ACTIVE" | "PAUSED" | "COMPLETED" | "ABORTED" | "CANCELLED";
export interface Release {
  id: string;
  status: ReleaseStatus;
  rolloutPercent: number;
  createdAt: string;
  finishedAt: string | null;
  firmware: { id: string; title: string; version: string };
  counts: { targeted: number; offered: number; downloading: number; updated: number; failed: number; rolledBack: number; timedOut: number };
}
