/** Registry of resolver classes. Each area adds its own line. */
import { AuthResolver } from "./accounts/auth.resolver.js";
import { DeviceResolver } from "./devices/device.resolver.js";
import { SubscriptionResolver } from "./telemetry/subscription.resolver.js";
import { dashboardResolvers } from "./dashboard.registry.js";
import { automationResolvers } from "./automation.registry.js";

export const resolvers = [AuthResolver, DeviceResolver, SubscriptionResolver, ...dashboardResolvers, ...automationResolvers] as const;
