/** Registry of resolver classes. Each area adds its own line. */
import { AuthResolver } from "./accounts/auth.resolver.js";
import { DeviceResolver } from "./devices/device.resolver.js";
import { DeviceEventsResolver } from "./devices/device-events.resolver.js";
import { TelemetryEventsResolver } from "./telemetry/telemetry-events.resolver.js";
import { WidgetEventsResolver } from "./dashboards/widget-events.resolver.js";
import { NotificationEventsResolver } from "./notifications/notification.resolver.js";
import { dashboardResolvers } from "./dashboard.registry.js";
import { automationResolvers } from "./automation.registry.js";

export const resolvers = [AuthResolver, DeviceResolver, DeviceEventsResolver, TelemetryEventsResolver, WidgetEventsResolver, NotificationEventsResolver, ...dashboardResolvers, ...automationResolvers] as const;
