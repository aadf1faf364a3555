import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import {
  Logger as WorkerLogger,
  makeWorkerUtils,
  run,
  type JobHelpers,
  type Runner,
  type TaskList,
  type WorkerEvents,
  type WorkerUtils,
} from "graphile-worker";
import pg from "pg";
import type { Logger } from "pino";

/** How often a running worker pool says it is alive (a row in job_worker_heartbeats). */
const BEAT_MS = 5_000;
/** A pool silent this long is taken for dead: its jobs are unlocked for the other processes. */
const DEAD_AFTER_S = 20;
/** How often every process looks for dead pools (also once at start). */
const SWEEP_MS = 10_000;
/**
 * Jobs locked by a pool that has no heartbeat row at all (one that died before its first beat, or a
 * process of a version without heartbeats) are unlocked once locked this long.
 */
const ORPHANED_AFTER_S = 60;
/** After the worker pool stopped by itself (it could not record a job's end), a new one starts this much later. */
const RESTART_MS = 2_000;

const BEAT = `INSERT INTO job_worker_heartbeats (worker_id, process) VALUES ($1, $2)
  ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()`;

/**
 * One statement, so a sweep that dies halfway leaves nothing half done: the rows of the silent pools
 * go, and their jobs (and job queues) are unlocked. graphile-worker alone would keep them locked
 * for four hours. Any number of processes may sweep at once: each dead row is deleted by one.
 */
const SWEEP = `WITH dead AS (
    DELETE FROM job_worker_heartbeats WHERE beat_at < now() - make_interval(secs => $1) RETURNING worker_id
  ), orphaned AS (
    SELECT DISTINCT j.locked_by AS worker_id FROM graphile_worker.jobs j
     WHERE j.locked_by IS NOT NULL AND j.locked_at < now() - make_interval(secs => $2)
       AND NOT EXISTS (SELECT 1 FROM job_worker_heartbeats h WHERE h.worker_id = j.locked_by)
  ), silent AS (
    SELECT array_agg(worker_id) AS ids FROM (SELECT worker_id FROM dead UNION SELECT worker_id FROM orphaned) w
  )
  SELECT ids, (SELECT count(*) FROM graphile_worker.jobs WHERE locked_by = ANY(ids))::int AS jobs, graphile_worker.force_unlock_workers(ids)
    FROM silent WHERE ids IS NOT NULL`;

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
 *
 * Crash recovery: each worker pool beats every few seconds; a process that dies (kill -9, power
 * loss) leaves its jobs locked, and any live process unlocks them once the beat is DEAD_AFTER_S old,
 * so they run again within about half a minute instead of graphile-worker's four hours. A task must
 * therefore tolerate running again after a crash (schedules and deliveries check their own state).
 */
export class JobQueue {
  private readonly tasks: TaskList = {};
  private readonly pool: pg.Pool;
  private runner: Runner | undefined;
  private utils: Promise<WorkerUtils> | undefined;
  /** graphile-worker locks jobs in the name of the pool (not of each worker): that id beats. */
  private poolId: string | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private beating = false;
  private sweeping = false;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

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
    await this.run();
    await this.beat();
    await this.sweep();
    // unref: the timers never keep a process alive that is otherwise done.
    this.timers.push(setInterval(() => void this.beat(), BEAT_MS).unref(), setInterval(() => void this.sweep(), SWEEP_MS).unref());
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
    this.stopping = true;
    clearTimeout(this.restartTimer);
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    // A pool that stopped by itself (see `run`) has nothing more to stop.
    await this.runner?.stop().catch((error: unknown) => this.log.debug({ err: error }, "job worker stop"));
    this.runner = undefined;
    // Stopped cleanly: nothing of ours is locked any more, so the row can go now.
    if (this.poolId) await this.pool.query(`DELETE FROM job_worker_heartbeats WHERE worker_id = $1`, [this.poolId]).catch(() => undefined);
    if (this.utils)
      await this.utils.then(
        (utils) => utils.release(),
        () => undefined,
      );
    await this.pool.end();
  }

  /**
   * A worker pool that records each job's end in a batch: when that write fails (the database went
   * away), graphile-worker reports it and shuts the pool down instead of leaving a rejected promise
   * nobody handles (which would end the process). This supervisor then starts a new pool; the old
   * pool's heartbeat row goes silent, so the sweep releases the jobs it could not record, as after a
   * crash.
   */
  private async run(): Promise<void> {
    const events = new EventEmitter() as WorkerEvents;
    events.on("pool:create", ({ workerPool }) => (this.poolId = workerPool.id));
    const runner = await run({
      pgPool: this.pool,
      taskList: this.tasks,
      concurrency: this.options.concurrency,
      pollInterval: this.options.pollIntervalMs,
      noHandleSignals: true, // the server's own shutdown stops the worker
      logger: workerLogger(this.log),
      events,
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    this.runner = runner;
    runner.promise.then(
      () => this.restartAfter(runner, undefined),
      (error: unknown) => this.restartAfter(runner, error),
    );
  }

  private restartAfter(ended: Runner, error: unknown): void {
    if (this.stopping || this.runner !== ended) return;
    this.log.error({ err: error }, "the job worker stopped by itself; starting a new one");
    this.restartTimer = setTimeout(() => {
      this.run().catch((startError: unknown) => {
        this.log.warn({ err: startError }, "the job worker did not start again; trying later");
        this.restartAfter(ended, startError);
      });
    }, RESTART_MS).unref();
  }

  /** A failed beat (database away) is only logged: the next one tries again, and a long silence is what a sweep looks for. */
  private async beat(): Promise<void> {
    if (!this.poolId || this.beating) return;
    this.beating = true;
    try {
      await this.pool.query(BEAT, [this.poolId, `${hostname()}:${process.pid}`]);
    } catch (error) {
      this.log.debug({ err: error }, "job worker heartbeat failed");
    } finally {
      this.beating = false;
    }
  }

  /** Unlocks the jobs of pools that stopped beating; any process may do it for all. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const { rows } = await this.pool.query<{ ids: string[]; jobs: number }>(SWEEP, [DEAD_AFTER_S, ORPHANED_AFTER_S]);
      if (rows[0]) this.log.warn({ workers: rows[0].ids, jobs: rows[0].jobs }, "unlocked the jobs of job workers that stopped beating");
    } catch (error) {
      this.log.debug({ err: error }, "job worker sweep failed");
    } finally {
      this.sweeping = false;
    }
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
