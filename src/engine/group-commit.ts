import type BetterSqlite3 from 'better-sqlite3';

/**
 * Group commit (issue 18, DESIGN §4.2): writes that arrive together share one SQLite transaction
 * and one fsync. Each unit of work runs inside its own SAVEPOINT, so a refusal rolls back only its
 * own writes; the batch commits once, and no caller hears back before the commit that holds its
 * work. A failed commit fails every unit of the batch with the commit's error (a storage fault,
 * answered 503) and leaves the database as it was before the batch.
 *
 * A batch closes on the next turn of the event loop (`setImmediate`: every request parsed in the
 * same poll phase joins it) or when it holds `maxBatch` units. The work itself is synchronous —
 * the engine's `create`/`apply` inside it — and sees the writes of the units before it in the
 * batch, exactly as if they had committed one by one in that order.
 */
export interface GroupCommitOptions {
  /** The most units one transaction holds; the next ones wait for the next batch. */
  maxBatch?: number;
  /** Called after every unit ran and before COMMIT: where a test injects a failing commit. */
  beforeCommit?: () => void;
}

interface Unit {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** What a batch did, for the bench and the tests. */
export interface GroupCommitStats {
  batches: number;
  units: number;
  largest: number;
}

export class GroupCommit {
  private queue: Unit[] = [];
  private scheduled = false;
  /** A batch is being run: a write queued from inside one waits for the next batch, never joins this one's transaction. */
  private flushing = false;
  private readonly maxBatch: number;
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  /** A unit in a savepoint of the open transaction (better-sqlite3 nests its transactions so). */
  private readonly inSavepoint: (work: () => unknown) => unknown;
  readonly stats: GroupCommitStats = { batches: 0, units: 0, largest: 0 };

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.begin = sqlite.prepare('BEGIN IMMEDIATE');
    this.commit = sqlite.prepare('COMMIT');
    this.rollback = sqlite.prepare('ROLLBACK');
    this.inSavepoint = sqlite.transaction((work: () => unknown) => work());
  }

  /** Runs `work` in the next batch; settles once the batch that holds it has committed (or failed). */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch && !this.flushing) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Runs and commits what is queued now, one batch after another until the queue is empty. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) this.flushOne(this.queue.splice(0, this.maxBatch));
    } finally {
      this.flushing = false;
    }
  }

  private flushOne(units: Unit[]): void {
    // A caller already inside a transaction (a test, the seed) gets its own writes as before: the
    // units become savepoints of that transaction and commit with it.
    const outer = !this.sqlite.inTransaction;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      if (outer) this.begin.run();
    } catch (error) {
      for (const unit of units) unit.reject(error);
      return;
    }
    for (const [i, unit] of units.entries()) {
      try {
        outcomes.push({ ok: true, value: this.inSavepoint(unit.work) });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
      if (outer && !this.sqlite.inTransaction) {
        // SQLite rolled the whole transaction back itself (a full disk, an I/O error): nothing of
        // this batch was written. The units that ran fail with the fault; the rest wait for the next batch.
        const fault = outcomes[i]!.ok ? new Error('the transaction was rolled back') : (outcomes[i] as { error: unknown }).error;
        for (const ran of units.slice(0, i + 1)) ran.reject(fault);
        this.queue.unshift(...units.slice(i + 1));
        return;
      }
    }
    if (outer) {
      try {
        this.options.beforeCommit?.();
        this.commit.run();
      } catch (error) {
        if (this.sqlite.inTransaction) this.rollback.run();
        for (const unit of units) unit.reject(error);
        return;
      }
    }
    this.stats.batches += 1;
    this.stats.units += units.length;
    this.stats.largest = Math.max(this.stats.largest, units.length);
    units.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}
