import type { Server } from "node:http";
import type { Pool, QueryResultRow } from "pg";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { Topic, type EventBus } from "./event-bus.js";

/** What the metrics read; the app passes the running services. */
export interface MetricSources {
  readonly bus: EventBus;
  readonly pool: Pool;
  /** Long polls held right now. */
  readonly longPollsHeld: () => number;
  /** MQTT device sessions of this process. */
  readonly mqttSessions?: () => number;
}

/** A scrape must answer even when the database hangs; a gauge it could not read shows NaN. */
const QUERY_TIMEOUT_MS = 1000;

// Long polls are held up to 30 s, so the top buckets keep them apart from requests that were slow.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event-loop lag, GC: one set per process however many servers it runs (tests run
 * several), because each collectDefaultMetrics call keeps an event-loop monitor and a GC observer
 * alive for good.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${QUERY_TIMEOUT_MS} ms`)), QUERY_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const JOB_STATES = ["due", "scheduled", "running", "failed"] as const;

/**
 * The server's Prometheus metrics, in a registry of its own (the global one would refuse a second
 * server in the same process). Counters count from this process's start; gauges backed by the
 * database are read at each scrape, so every process of a deployment reports the same fleet-wide value.
 */
export class Metrics {
  private readonly requests: Counter<"route" | "method" | "status">;
  private readonly duration: Histogram<"route" | "method" | "status">;
  private readonly sockets: Gauge;
  private readonly online: Gauge;
  private readonly jobs: Gauge<"state">;
  private readonly scrapeErrors: Counter<"gauge">;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly sources: MetricSources,
  ) {
    processMetrics(); // from the start, so the first scrape already has event-loop lag and GC since then
    const registers = [registry];
    this.requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by route pattern (unmatched: no route), method and status.",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from request to the last byte of the answer, by route pattern, method and status.",
      labelNames: ["route", "method", "status"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const reports = new Counter({ name: "thingsnxt_reports_total", help: "Device reports stored by this process.", registers });
    // Remote deliveries are other processes' reports: each process counts its own, Prometheus sums them.
    this.unsubscribe = sources.bus.subscribe(Topic.TelemetryReported, (_payload, { remote }) => remote || reports.inc());
    this.online = new Gauge({ name: "thingsnxt_devices_online", help: "Devices online now (all processes: read from the database).", registers });
    this.jobs = new Gauge({
      name: "thingsnxt_jobs",
      help: "Durable jobs (all processes) by state: due (waiting for a worker), scheduled (later), running, failed (no attempt left).",
      labelNames: ["state"],
      registers,
    });
    new Gauge({
      name: "thingsnxt_long_polls_held",
      help: "GET /telemetry/latest?wait requests this process is holding.",
      registers,
      collect() {
        this.set(sources.longPollsHeld());
      },
    });
    new Gauge({
      name: "thingsnxt_mqtt_sessions",
      help: "Devices connected to this process's MQTT endpoint.",
      registers,
      collect() {
        this.set(sources.mqttSessions?.() ?? 0);
      },
    });
    this.sockets = new Gauge({ name: "thingsnxt_graphql_ws_sockets", help: "WebSocket connections open on /graphql in this process.", registers });
    this.scrapeErrors = new Counter({
      name: "thingsnxt_metrics_scrape_errors_total",
      help: "Gauges that could not be read at a scrape (database slow or down), by gauge.",
      labelNames: ["gauge"],
      registers,
    });
  }

  /** Counts an answered HTTP request; `route` is the route pattern, never the raw URL (bounded labels). */
  observe(route: string | undefined, method: string, status: number, seconds: number): void {
    const labels = { route: route ?? "unmatched", method, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  /** Follows the WebSocket upgrades of `server` on `path` until each socket closes. */
  countSockets(server: Server, path: string): void {
    server.on("upgrade", (request, socket) => {
      if (new URL(request.url ?? "/", "http://x").pathname !== path || socket.destroyed) return;
      this.sockets.inc();
      socket.once("close", () => this.sockets.dec());
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of this server's metrics and the process's. */
  async render(): Promise<string> {
    await this.readDatabase();
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  /**
   * Before the exposition is written rather than in collect callbacks (which run alongside each
   * other), so a miss is counted in the same scrape that shows its NaN.
   */
  private async readDatabase(): Promise<void> {
    const read = <T extends QueryResultRow>(gauge: string, sql: string) =>
      withTimeout(this.sources.pool.query<T>(sql)).then(
        (result) => result.rows[0],
        () => {
          this.scrapeErrors.inc({ gauge });
          return undefined;
        },
      );
    const [devices, queue] = await Promise.all([
      read<{ n: number }>("thingsnxt_devices_online", "SELECT count(*)::int AS n FROM devices WHERE status = 'online'"),
      read<Record<(typeof JOB_STATES)[number], number>>(
        "thingsnxt_jobs",
        `SELECT count(*) FILTER (WHERE is_available AND run_at <= now())::int AS due,
                count(*) FILTER (WHERE is_available AND run_at > now())::int AS scheduled,
                count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
                count(*) FILTER (WHERE locked_at IS NULL AND attempts >= max_attempts)::int AS failed
           FROM graphile_worker._private_jobs`,
      ),
    ]);
    this.online.set(devices ? devices.n : Number.NaN);
    for (const state of JOB_STATES) this.jobs.set({ state }, queue ? queue[state] : Number.NaN);
  }

  close(): void {
    this.unsubscribe();
  }
}
