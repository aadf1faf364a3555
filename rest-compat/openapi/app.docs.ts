import { AUTH_FAILURES } from "../../src/platform/user-token.js";
import { error, EXAMPLE_TIME, json, pick, ref, type OpenApiOperation, type OperationDoc, type Security } from "./document.js";

/** App-side endpoints kept for existing clients (rest-compat/widget.routes.ts, app.routes.ts, notifications-stream.routes.ts). */

export const widgetStateDoc: OperationDoc = ({ refused, counted }): OpenApiOperation => ({
  operationId: "setWidgetState",
  summary: "Switch a widget (the app's LED switch)",
  description: "Sets the widget's state; the command reaches the device through its next poll (or telemetry response).",
  tags: ["app"],
  security: [{ accessToken: [] }] as Security,
  parameters: [{ name: "widget_id", in: "path", required: true, description: "The widget's id.", schema: { type: "string" } }],
  requestBody: {
    required: true,
    content: json(ref("schemas", "WidgetStateRequest"), { state: 1 }),
  },
  responses: {
    200: {
      description: "The command was stored.",
      headers: counted,
      content: json(ref("schemas", "WidgetStateResponse"), { message: "ok", state: 1, virtual_pin: "v0", timestamp: EXAMPLE_TIME }),
    },
    400: error("`state` is not 0, 1, true or false.", "state must be 0, 1, true or false"),
    401: error("No valid access token.", AUTH_FAILURES.missing.message),
    404: error("No such widget among the caller's (a widget of someone else is a 404 too, never a 403).", "Widget not found"),
    ...pick(refused, [413, 415, 429, 503]),
  },
});

export const logoutDoc: OperationDoc = ({ refused }): OpenApiOperation => ({
  operationId: "logout",
  summary: "Log out",
  description: "Revokes the access token and the user's refresh tokens. Idempotent, and never rate limited.",
  tags: ["app"],
  security: [{ accessToken: [] }, {}] as Security,
  responses: {
    200: {
      description: "Logged out, or already logged out.",
      content: json(ref("schemas", "LogoutResponse"), { message: "Logged out", tokens_deleted: 1, already_logged_out: false }),
    },
    503: refused[503]!,
  },
});

export const notificationStreamDoc: OperationDoc = (): OpenApiOperation => ({
  operationId: "notificationStream",
  summary: "Stream the caller's notifications (Server-Sent Events)",
  description:
    "An `initial` event with the latest 20 notifications and the unread count, then one `notification` event per new notification. " +
    "The stream ends when the access token expires or is revoked (logout, password reset). New clients use the GraphQL subscription `notificationAdded`.",
  tags: ["app"],
  security: [{ accessToken: [] }] as Security,
  responses: {
    200: {
      description: "The event stream.",
      content: { "text/event-stream": { schema: { type: "string" }, example: 'event: initial\ndata: {"notifications":[],"unread_count":0}\n\n' } },
    },
    401: error("No valid access token.", AUTH_FAILURES.missing.message),
  },
});
