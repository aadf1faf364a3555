import { Logger as WorkerLogger, makeWorkerUtils, run, type JobHelpers, type Runner, type TaskList, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import type { Logger } from "pino";

export interface JobOptions {
  /** When to run; now when absent. */
  runAt?: Date;
  /** One pending job per key: adding again replaces it (schedules, sweeps). */
  jobKey?: string;
  /** With jobKey: keep the pending job's time instead of moving it (periodic jobs added at every start). */
  preserveRunAt?: boolean;
  maxAttempts?: number;
}

export type JobHandler = (payload: unknown, helpers: JobHelpers) => Promise<void>;

/**
 * Durable jobs on PostgreSQL (graphile-worker): a job survives restarts and runs exactly once
 * across any number of processes (SKIP LOCKED), retried on failure. Every area registers its tasks
 * before `start`; every process runs a worker.
 */
export class JobQueue {
  private readonly tasks: TaskList = {};
  private readonly pool: pg.Pool;
  private runner: Runner | undefined;
  private utils: Promise<WorkerUtils> | undefined;

  constructor(
    connectionString: string,
    private readonly log: Logger,
    private readonly options: { pollIntervalMs: number; concurrency: number },
  ) {
    this.pool = new pg.Pool({ connectionString, max: options.concurrency + 2 });
    this.pool.on("error", (error) => log.warn({ err: error.message }, "job queue connection lost"));
    // A checked-out client that loses its connection must not crash the process either.
    this.pool.on("connect", (client) => client.on("error", (error) => log.warn({ err: error.message }, "job queue client error")));
  }

  register(name: string, handler: JobHandler): void {
    if (this.runner) throw new Error(`task ${name} registered after the worker started`);
    this.tasks[name] = handler;
  }

  async start(): Promise<void> {
    this.runner = await run({
      pgPool: this.pool,
      taskList: this.tasks,
      concurrency: this.options.concurrency,
      pollInterval: this.options.pollIntervalMs,
      noHandleSignals: true, // the server's own shutdown stops the worker
      logger: workerLogger(this.log),
    });
  }

  async add(name: string, payload: unknown, options: JobOptions = {}): Promise<string> {
    const utils = await this.workerUtils();
    const job = await utils.addJob(name, payload as object, {
      ...(options.runAt ? { runAt: options.runAt } : {}),
      ...(options.jobKey ? { jobKey: options.jobKey, jobKeyMode: options.preserveRunAt ? ("preserve_run_at" as const) : ("replace" as const) } : {}),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    });
    return job.id;
  }

  /** Removes a pending job by key (no-op when it already ran or is running). */
  async remove(jobKey: string): Promise<void> {
    const utils = await this.workerUtils();
    await utils.withPgClient((client) => client.query("SELECT graphile_worker.remove_job($1)", [jobKey]));
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
    if (this.utils)
      await this.utils.then(
        (utils) => utils.release(),
        () => undefined,
      );
    await this.pool.end();
  }

  private workerUtils(): Promise<WorkerUtils> {
    // A failure (database down at that moment) is not kept: the next call tries again.
    this.utils ??= makeWorkerUtils({ pgPool: this.pool, logger: workerLogger(this.log) }).catch((error: unknown) => {
      this.utils = undefined;
      throw error;
    });
    return this.utils;
  }
}

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const method = level === "error" ? "error" : level === "warning" ? "warn" : "debug";
    log[method]({ worker: meta }, message);
  });
}
