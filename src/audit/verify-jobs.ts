import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { saveCheckpoints, type CheckpointUpdate } from '../engine/verify.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { verifyRecord, type RecordReport } from '../workflows/documents/check.ts';
import type { DocumentStore } from '../workflows/documents/store.ts';

/** What a verify job is asked: the whole log replayed, or only what was added since the checkpoints; and a published head to compare. */
export interface VerifyJobOptions {
  full: boolean;
  expectedHead?: string;
  /**
   * Whether to keep the checkpoints reached (true unless said). On a file database they are written
   * on a connection of the jobs' own; on an in-memory one only on the server's, so a read (a GET)
   * asks for none there: it writes nothing.
   */
  save?: boolean;
}

/** What the worker thread is given (src/audit/verify-worker.ts). */
export interface VerifyWorkerInput {
  path: string;
  documentsDir: string;
  options: { incremental: boolean; expectedHead?: string };
}

/** What the worker thread says: its progress, then its report or why it failed. */
export type VerifyWorkerMessage =
  | { type: 'progress'; checked: number; total: number }
  | { type: 'done'; report: RecordReport; checkpoints: CheckpointUpdate }
  | { type: 'failed'; message: string };

export type VerifyJobState = 'running' | 'done' | 'failed';

export interface VerifyJob {
  id: string;
  full: boolean;
  expectedHead: string | null;
  save: boolean;
  state: VerifyJobState;
  /** Events checked so far, of `total` in the log (0 of 0 until the first progress). */
  checked: number;
  total: number;
  startedAt: string;
  finishedAt: string | null;
  report: RecordReport | null;
  error: string | null;
  /** Resolves (never rejects) with the job once it is done or failed. */
  finished: Promise<VerifyJob>;
}

/** How many finished jobs are kept to be asked about. */
const KEPT_JOBS = 20;

/**
 * Whole-ledger verifications as jobs (issue 17): started, asked about while they run, and kept a
 * while after. On a file database each job runs in a worker thread with a read-only connection of
 * its own, so that the server's thread stays free for requests and the writes go on; an in-memory
 * database (the tests') cannot be opened twice, and is verified on this thread. A request for a
 * job like one already running joins it, so that reloading the page does not start another.
 */
export class VerifyJobs {
  private readonly jobs = new Map<string, VerifyJob>();
  private readonly workers = new Set<Worker>();
  /** The connection checkpoints are written on, for a file database: the server's own records no write of a read. */
  private writer: Database.Database | undefined;

  constructor(
    private readonly db: Db,
    private readonly registry: MachineRegistry,
    private readonly store: DocumentStore,
  ) {}

  /** Whether jobs run in a worker thread: on a file database. */
  get inWorker(): boolean {
    return !this.db.$client.memory;
  }

  start(options: VerifyJobOptions): VerifyJob {
    const expectedHead = options.expectedHead ?? null;
    const save = options.save ?? true;
    // A full job answers an incremental request too; a read never joins a job that keeps checkpoints (its answer would come with a write).
    const running = [...this.jobs.values()].find((j) => j.state === 'running' && j.expectedHead === expectedHead && (j.full || !options.full) && j.save === save);
    if (running) return running;
    const job: VerifyJob = {
      id: randomBytes(8).toString('hex'),
      full: options.full,
      expectedHead,
      save,
      state: 'running',
      checked: 0,
      total: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      report: null,
      error: null,
      finished: Promise.resolve(undefined as never),
    };
    this.jobs.set(job.id, job);
    this.prune();
    job.finished = this.inWorker ? this.runInWorker(job) : this.runHere(job);
    return job;
  }

  get(id: string): VerifyJob | undefined {
    return this.jobs.get(id);
  }

  /** Settles once no job is running: what a test waits for before it measures what a request wrote. */
  async idle(): Promise<void> {
    for (let running = [...this.jobs.values()].filter((j) => j.state === 'running'); running.length > 0; running = [...this.jobs.values()].filter((j) => j.state === 'running')) {
      await Promise.all(running.map((j) => j.finished));
    }
  }

  /** The newest job, running or not: what the ledger page shows when asked for none. */
  latest(): VerifyJob | undefined {
    return [...this.jobs.values()].at(-1);
  }

  /** Stops the workers (the server is closing): their jobs fail. */
  async close(): Promise<void> {
    const workers = [...this.workers];
    for (const job of this.jobs.values()) if (job.state === 'running') this.fail(job, 'the server stopped');
    await Promise.all(workers.map((worker) => worker.terminate()));
    this.writer?.close();
    this.writer = undefined;
  }

  private async runHere(job: VerifyJob): Promise<VerifyJob> {
    try {
      const { report, checkpoints } = await verifyRecord(this.db, this.registry, this.store, {
        incremental: !job.full,
        ...(job.expectedHead ? { expectedHead: job.expectedHead } : {}),
        onProgress: (checked, total) => Object.assign(job, { checked, total }),
      });
      this.finish(job, report, checkpoints);
    } catch (error) {
      this.fail(job, error instanceof Error ? error.message : String(error));
    }
    return job;
  }

  private runInWorker(job: VerifyJob): Promise<VerifyJob> {
    const input: VerifyWorkerInput = {
      path: this.db.$client.name,
      documentsDir: this.store.root,
      options: { incremental: !job.full, ...(job.expectedHead ? { expectedHead: job.expectedHead } : {}) },
    };
    return new Promise((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(new URL('./verify-worker.mjs', import.meta.url), { workerData: input });
      } catch (error) {
        this.fail(job, error instanceof Error ? error.message : String(error));
        resolve(job);
        return;
      }
      this.workers.add(worker);
      worker.on('message', (message: VerifyWorkerMessage) => {
        if (job.state !== 'running') return;
        if (message.type === 'progress') Object.assign(job, { checked: message.checked, total: message.total });
        else if (message.type === 'done') this.finish(job, message.report, message.checkpoints);
        else this.fail(job, message.message);
        if (job.state !== 'running') resolve(job);
      });
      worker.on('error', (error) => {
        if (job.state === 'running') this.fail(job, error.message);
        resolve(job);
      });
      worker.on('exit', (code) => {
        this.workers.delete(worker);
        if (job.state === 'running') this.fail(job, `the verify worker stopped with exit code ${code}`);
        resolve(job);
      });
    });
  }

  private finish(job: VerifyJob, report: RecordReport, checkpoints: CheckpointUpdate): void {
    try {
      if (job.save) {
        if (this.inWorker) {
          this.writer ??= new Database(this.db.$client.name, { fileMustExist: true });
          this.writer.pragma('busy_timeout = 5000');
          saveCheckpoints(this.writer, checkpoints);
        } else saveCheckpoints(this.db, checkpoints);
      }
    } catch {
      // A database that cannot be written (a storage fault) still has its report; the next verify replays more.
    }
    Object.assign(job, { state: 'done', report, checked: report.events, total: report.events, finishedAt: new Date().toISOString() });
  }

  private fail(job: VerifyJob, error: string): void {
    Object.assign(job, { state: 'failed', error, finishedAt: new Date().toISOString() });
  }

  private prune(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= KEPT_JOBS) break;
      if (job.state !== 'running') this.jobs.delete(id);
    }
  }
}

/** A job as the API and the page tell it. */
export function verifyJobView(job: VerifyJob) {
  const report = job.report;
  return {
    job: job.id,
    state: job.state,
    full: job.full,
    checked: job.checked,
    total: job.total,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    ok: report ? report.ok : null,
    head: report ? report.head : null,
    streams: report ? report.streams : null,
    events: report ? report.events : null,
    documents: report ? report.documents : null,
    replayed: report ? report.replayed : null,
    problems: report ? report.problems : [],
    error: job.error,
  };
}

/** A job's phase as flags, for the pages (which ask no state themselves). */
export function jobPhase(job: Pick<VerifyJob, 'state'>): { running: boolean; failed: boolean; done: boolean } {
  return { running: job.state === 'running', failed: job.state === 'failed', done: job.state === 'done' };
}
