/**
 * Registry of entities and migrations. Each area adds its own line; migrations run in the order of
 * their timestamps.
 */
import { Initial1764250000000 } from "./migrations/1764250000000-initial.js";
import { Accounts1764250000001 } from "./migrations/1764250000001-accounts.js";
import { DeviceStateRow } from "./device-state.entity.js";
import { Device } from "./device.entity.js";
import { User } from "./user.entity.js";
import { dashboardEntities, dashboardMigrations } from "./dashboard.registry.js";
import { automationEntities, automationMigrations } from "./automation.registry.js";

export const entities: Function[] = [User, Device, DeviceStateRow, ...dashboardEntities, ...automationEntities];
export const migrations: Function[] = [Initial1764250000000, Accounts1764250000001, ...dashboardMigrations, ...automationMigrations];
