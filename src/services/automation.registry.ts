import type { CoreServices } from "./context.js";

/** Notifications, webhooks and history queries: the services of that area. */
export interface AutomationServices {
  /** Called at shutdown, before the database closes. */
  stopAutomation?: () => Promise<void>;
}

export function createAutomationServices(_core: CoreServices): AutomationServices {
  return {};
}
