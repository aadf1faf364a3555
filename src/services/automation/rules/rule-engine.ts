import type { Pool } from "pg";
import { LruMap } from "toad-cache";
import type { JsonValue } from "../../../platform/json.js";
import { RuleOp } from "../../../entities/rule.entity.js";
import { Topic, type EventBus } from "../../../platform/event-bus.js";
import type { JobQueue } from "../../../platform/jobs.js";
import type { ActionDeps } from "./rule-actions.js";
import { changed, holds } from "./rule-condition.js";
import { Causation } from "./rule-causation.js";
import { RuleFiring, type KeyRules, type LiveRule, type LoopLimits } from "./rule-firing.js";
import type { RuleCache } from "./rule.service.js";

export interface RuleEngineOptions extends LoopLimits {
  /** Devices whose rules are kept in memory. */
  cachedDevices: number;
}

export const DEFAULT_RULE_OPTIONS: RuleEngineOptions = { maxFiringsPerMinute: 10, maxDepth: 8, cachedDevices: 100_000 };

/** A device's enabled rules by the key they read. */
type DeviceRules = ReadonlyMap<string, KeyRules>;

interface Report {
  deviceId: string;
  data: Record<string, JsonValue>;
  at: number;
  remote: boolean;
}

/**
 * Evaluates rules on ingest. Reports arrive as TelemetryReported events (after their commit) and are
 * evaluated off the request path, in memory: a device's enabled rules are loaded once (one query)
 * and kept until a rule of that device changes (RulesChanged, in every process). A report costs
 * comparisons only; entering or leaving a condition is the only thing written (rule-firing.ts).
 */
export class RuleEngine implements RuleCache {
  private readonly rules: LruMap<DeviceRules>;
  private readonly loading = new Map<string, { events: Report[]; stale: boolean }>();
  /** Database writes of one device's rules, in order; a load waits for them. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly causation = new Causation();
  private readonly firing: RuleFiring;
  private queue: Report[] = [];
  private scheduled = false;

  constructor(
    pool: Pool,
    bus: EventBus,
    jobs: JobQueue,
    private readonly actions: ActionDeps,
    options: RuleEngineOptions = DEFAULT_RULE_OPTIONS,
  ) {
    this.rules = new LruMap(options.cachedDevices);
    this.firing = new RuleFiring(pool, bus, jobs, actions, options, this.causation, {
      forget: (deviceId) => this.forget(deviceId),
      track: (work) => this.track(work),
    });
    bus.subscribe(Topic.TelemetryReported, ({ deviceId, data, timestamp }, { remote }) => {
      // Another process evaluates its own reports; here they only move CHANGED rules' previous value.
      if (remote && !this.rules.get(deviceId)) return;
      this.queue.push({ deviceId, data, at: Date.parse(timestamp), remote });
      this.schedule();
    });
    bus.subscribe(Topic.RulesChanged, ({ deviceId }, { remote }) => remote && this.forget(deviceId));
    bus.subscribe(Topic.DeviceCredentialsChanged, ({ deviceId }) => this.forget(deviceId));
    bus.subscribe(Topic.BusResynced, () => {
      this.rules.clear();
      for (const loading of this.loading.values()) loading.stale = true;
    });
  }

  rulesChanged(deviceIds: readonly string[]): void {
    for (const deviceId of deviceIds) {
      this.forget(deviceId);
      this.firing.announce(deviceId);
    }
  }

  cancelHold(ruleId: string): Promise<void> {
    return this.firing.cancelHold(ruleId);
  }

  /** Resolves when every queued report is evaluated and its writes and actions are done (shutdown, tests). */
  async idle(): Promise<void> {
    do {
      this.drain();
      await Promise.allSettled([...this.running]);
    } while (this.running.size > 0 || this.queue.length > 0);
  }

  private forget(deviceId: string): void {
    this.rules.delete(deviceId);
    const loading = this.loading.get(deviceId);
    if (loading) loading.stale = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // The publisher is the commit of an ingest batch: its requests are answered before evaluation runs.
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    const reports = this.queue;
    this.queue = [];
    for (const report of reports) {
      try {
        this.process(report);
      } catch (error) {
        this.actions.log.error({ err: error, deviceId: report.deviceId }, "rule evaluation failed");
      }
    }
  }

  private process(report: Report): void {
    const loading = this.loading.get(report.deviceId);
    if (loading) {
      if (!report.remote) loading.events.push(report);
      return;
    }
    const rules = this.rules.get(report.deviceId);
    if (rules) this.evaluate(rules, report);
    else if (!report.remote) this.load(report);
  }

  private evaluate(rules: DeviceRules, report: Report): void {
    if (rules.size === 0) return;
    const depth = report.remote ? 0 : this.causation.depthOf(report.deviceId, report.data);
    for (const key in report.data) {
      const bucket = rules.get(key);
      if (!bucket) continue;
      const actual = report.data[key]!;
      // Conditions are functions of the value, so the value they were last evaluated with cannot move
      // them (firmware reports every key every few seconds, most of them unchanged). After another
      // process's report, evaluate again.
      if (bucket.seen && bucket.last === actual && !report.remote) continue;
      bucket.seen = !report.remote;
      bucket.last = actual;
      for (const rule of bucket.rules) {
        if (rule.op === RuleOp.CHANGED) {
          const fire = changed(rule.prev, actual);
          rule.prev = actual;
          if (fire && !report.remote) this.write(rule, () => this.firing.fire(rule, actual, depth, "changed"));
          continue;
        }
        if (report.remote) continue;
        const now = holds(rule.op, actual, rule.value);
        if (now === rule.active) continue; // hysteresis: only a transition does something
        rule.active = now;
        if (!now) this.write(rule, () => this.firing.leave(rule));
        else if (rule.forSeconds > 0) this.write(rule, () => this.firing.arm(rule, report.at, depth));
        else this.write(rule, () => this.firing.fire(rule, actual, depth, "entering", report.at));
      }
    }
  }

  /** A device's rules from the database; reports that arrive meanwhile wait for them, in order. */
  private load(first: Report): void {
    const { deviceId } = first;
    const entry = { events: [first], stale: false };
    this.loading.set(deviceId, entry);
    this.track(
      (async () => {
        let rules: DeviceRules;
        do {
          entry.stale = false;
          await this.chains.get(deviceId); // our own transitions must be in the rows we read
          rules = await this.firing.load(deviceId, entry.events[0]!.at);
        } while (entry.stale);
        this.loading.delete(deviceId);
        this.rules.set(deviceId, rules);
        for (const report of entry.events) this.evaluate(rules, report);
      })().catch((error: Error) => {
        // Reports are stored whatever happens here; their rules are tried again with the next report.
        this.loading.delete(deviceId);
        this.actions.log.warn({ err: error.message, deviceId, reports: entry.events.length }, "could not load rules; reports not evaluated");
      }),
    );
  }

  /**
   * Runs a rule's database work after the device's earlier writes (not after their actions: a slow
   * action must not hold up the next transition). A failure makes the device's rules reload.
   */
  private write(rule: LiveRule, work: () => Promise<unknown>): void {
    const deviceId = rule.deviceId;
    const next = (this.chains.get(deviceId) ?? Promise.resolve())
      .then(async () => {
        await work();
      })
      .catch((error: Error) => {
        this.actions.log.warn({ err: error.message, ruleId: rule.id }, "rule transition not stored; reloading the device's rules");
        this.forget(deviceId);
      });
    this.chains.set(deviceId, next);
    this.track(next.finally(() => this.chains.get(deviceId) === next && this.chains.delete(deviceId)));
  }

  private track(promise: Promise<unknown>): void {
    this.running.add(promise);
    const done = () => void this.running.delete(promise);
    promise.then(done, done);
  }
}
