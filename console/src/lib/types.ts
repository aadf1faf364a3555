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
