import { Rules1764250000006 } from "../../../entities/migrations/1764250000006-rules.js";
import { Rule } from "../../../entities/rule.entity.js";
import { defineModule, type PlatformServices } from "../../../platform/services.js";
import { RuleActionResolver, RuleResolver } from "../../../resolvers/automation/rule.resolver.js";
import type { DevicesServices } from "../../devices/devices.module.js";
import type { NotificationsServices } from "../../notifications/notifications.module.js";
import type { TelemetryServices } from "../../telemetry/telemetry.module.js";
import type { WebhooksServices } from "../webhooks/webhooks.module.js";
import { RuleEngine } from "./rule-engine.js";
import { RuleService } from "./rule.service.js";

/** "When a value crosses a threshold, for S seconds, do this": evaluated on every report. */
export interface RulesServices {
  readonly rules: RuleService;
  readonly ruleEngine: RuleEngine;
}

declare module "../../../platform/services.js" {
  interface Services extends RulesServices {}
}

type Deps = PlatformServices & DevicesServices & TelemetryServices & NotificationsServices & WebhooksServices;

export const rulesModule = defineModule({
  name: "rules",
  entities: [Rule],
  migrations: [Rules1764250000006],
  resolvers: [RuleResolver, RuleActionResolver],
  routes: [],
  create({ pool, bus, jobs, control, notifications, log, webhookDeliveries, state, dataSource, devices, webhooks, config }: Deps): RulesServices {
    // Registers its job task and subscribes to reports: before the job worker starts.
    const ruleEngine = new RuleEngine(pool, bus, jobs, {
      control,
      notifications,
      log,
      webhooks: webhookDeliveries,
      reported: async (deviceId) => (await state.get(deviceId)).reported,
    });
    return { ruleEngine, rules: new RuleService(dataSource, devices, webhooks, config.limits, ruleEngine) };
  },
  // Before the webhooks module stops (reverse order): the rules' last actions may still enqueue deliveries.
  stop: ({ ruleEngine }) => ruleEngine.idle(),
});
