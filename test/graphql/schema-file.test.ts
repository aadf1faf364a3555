import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { appSchema, printedSchema } from "../../src/app/schema.js";

describe("schema.graphql", () => {
  it("is committed and matches the code (run `npm run schema` after an API change)", async () => {
    const committed = await readFile(new URL("../../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(await printedSchema());
  });

  it("keeps the contract's names and types", async () => {
    const schema = await appSchema();
    const signature = (type: "Query" | "Mutation" | "Subscription", name: string) => {
      const field = (type === "Query" ? schema.getQueryType() : type === "Mutation" ? schema.getMutationType() : schema.getSubscriptionType())!.getFields()[
        name
      ];
      if (!field) return `${type}.${name} is missing`;
      // Arguments are passed by name, so their order is not part of the contract.
      const args = field.args
        .map((a) => `${a.name}: ${String(a.type)}`)
        .sort()
        .join(", ");
      return `${name}${args ? `(${args})` : ""}: ${String(field.type)}`;
    };
    const contract: Array<["Query" | "Mutation" | "Subscription", string]> = [
      ["Query", "me: User!"],
      ["Query", "devices: [Device!]!"],
      ["Query", "device(id: ID!): Device"],
      ["Query", "dashboards: [Dashboard!]!"],
      ["Query", "dashboard(id: ID!): Dashboard"],
      ["Query", "widget(id: ID!): Widget"],
      [
        "Query",
        "telemetryHistory(deviceId: ID!, key: String!, from: DateTime, to: DateTime, bucket: String, aggregate: Aggregate, first: Int, timeZone: String): [TelemetryPoint!]!",
      ],
      ["Query", "notifications(unreadOnly: Boolean, first: Int, after: String): NotificationConnection!"],
      ["Query", "webhooks: [Webhook!]!"],
      ["Query", "schedules(widgetId: ID!): [Schedule!]!"],
      ["Mutation", "register(input: RegisterInput!): AuthPayload!"],
      ["Mutation", "login(input: LoginInput!): AuthPayload!"],
      ["Mutation", "refreshToken(refreshToken: String!): AuthPayload!"],
      ["Mutation", "logout: LogoutResponse!"],
      ["Mutation", "updateMe(input: UpdateMeInput!): User!"],
      ["Mutation", "deleteMe: Boolean!"],
      ["Mutation", "requestPasswordReset(email: String!): Boolean!"],
      ["Mutation", "resetPassword(token: String!, newPassword: String!): Boolean!"],
      ["Mutation", "createDevice(input: CreateDeviceInput!): DeviceWithToken!"],
      ["Mutation", "updateDevice(id: ID!, input: UpdateDeviceInput!): Device!"],
      ["Mutation", "deleteDevice(id: ID!): Boolean!"],
      ["Mutation", "rotateDeviceToken(id: ID!): DeviceWithToken!"],
      ["Mutation", "setDeviceState(deviceId: ID!, desired: JSONObject!): DeviceState!"],
      ["Mutation", "setDevicesState(deviceIds: [ID!]!, desired: JSONObject!): [DeviceState!]!"],
      ["Mutation", "createDashboard(input: CreateDashboardInput!): Dashboard!"],
      ["Mutation", "updateDashboard(id: ID!, input: UpdateDashboardInput!): Dashboard!"],
      ["Mutation", "deleteDashboard(id: ID!): Boolean!"],
      ["Mutation", "updateDashboardLayout(id: ID!, layout: [WidgetLayoutInput!]!): Dashboard!"],
      ["Mutation", "createWidget(input: CreateWidgetInput!): Widget!"],
      ["Mutation", "updateWidget(id: ID!, input: UpdateWidgetInput!): Widget!"],
      ["Mutation", "deleteWidget(id: ID!): Boolean!"],
      ["Mutation", "setWidgetState(id: ID!, state: JSON!): Widget!"],
      ["Mutation", "createSchedule(widgetId: ID!, state: JSON!, executeAt: DateTime!, label: String): Schedule!"],
      ["Mutation", "createTimer(widgetId: ID!, state: JSON!, durationSeconds: Int!, label: String): Schedule!"],
      ["Mutation", "cancelSchedule(id: ID!): Schedule!"],
      ["Mutation", "markNotificationRead(id: ID!): Notification!"],
      ["Mutation", "markAllNotificationsRead: Int!"],
      ["Mutation", "deleteNotification(id: ID!): Boolean!"],
      ["Mutation", "createWebhook(input: CreateWebhookInput!): WebhookWithSecret!"],
      ["Mutation", "updateWebhook(id: ID!, input: UpdateWebhookInput!): Webhook!"],
      ["Mutation", "deleteWebhook(id: ID!): Boolean!"],
      ["Subscription", "telemetryUpdated(deviceId: ID): TelemetryEvent!"],
      ["Subscription", "deviceStatusChanged(deviceId: ID): DeviceStatusEvent!"],
      ["Subscription", "deviceStateChanged(deviceId: ID): DeviceState!"],
      ["Subscription", "widgetUpdated(dashboardId: ID): WidgetEvent!"],
      ["Subscription", "notificationAdded: Notification!"],
    ];
    const sorted = (sig: string) => sig.replace(/\((.*)\):/, (_m, args: string) => `(${args.split(", ").sort().join(", ")}):`);
    expect(contract.map(([type, sig]) => signature(type, sig.split(/[(:]/)[0]!))).toEqual(contract.map(([, sig]) => sorted(sig)));
  });
});
