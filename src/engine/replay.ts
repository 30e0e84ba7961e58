import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import type { MachineRegistry, RegisteredMachine } from '../../machines/registry.ts';
import { GENESIS_HASH, hashStoredEvent } from './ledger.ts';
import type { EventRow, StreamRow } from './rows.ts';
import type { ProjectionDifference } from './projections.ts';
import { creationInput, firstSnapshot, machineEvent, nextSnapshot, persistSnapshot, restoreSnapshot, stateToString } from './snapshots.ts';
import { hasState, migrateSnapshot } from './versions.ts';

/** Every column of an event row, in the names the code uses. */
export const EVENT_COLUMNS =
  'position, stream_id AS streamId, seq, type, payload, facts, actor, at, from_state AS fromState, to_state AS toState, machine_id AS machineId, machine_version AS machineVersion, prev_hash AS prevHash, hash';
/**
 * An event row from the values of EVENT_COLUMNS in their order, as a statement in raw mode gives
 * them (issue 18.4): better-sqlite3 sets a row object's properties one by one, a third of the cost
 * of reading the log; one object literal of a fixed shape costs a fraction of that.
 */
export function eventRowOf(v: unknown[]): EventRow {
  return {
    position: v[0] as number,
    streamId: v[1] as string,
    seq: v[2] as number,
    type: v[3] as string,
    payload: v[4] as string,
    facts: v[5] as string,
    actor: v[6] as string,
    at: v[7] as string,
    fromState: v[8] as string | null,
    toState: v[9] as string,
    machineId: v[10] as string,
    machineVersion: v[11] as number,
    prevHash: v[12] as string,
    hash: v[13] as string,
  };
}
/** Every column of a stream row, in the names the code uses. */
export const STREAM_COLUMNS =
  'id, kind, machine_id AS machineId, machine_version AS machineVersion, state, snapshot, version, head_hash AS headHash, updated_at AS updatedAt';

export type LedgerProblemKind =
  | 'hash-mismatch'
  | 'broken-chain'
  | 'missing-event'
  | 'out-of-order'
  | 'unknown-machine-version'
  | 'unknown-state'
  | 'state-mismatch'
  | 'snapshot-mismatch'
  | 'head-mismatch'
  | 'version-mismatch'
  | 'replay-error'
  // The stored file an `attach-document` event names (src/engine/document-check.ts).
  | 'document-missing'
  | 'document-altered'
  // A projection row (the applications list, the stages table, …) that is not what the ledger gives (src/engine/projections.ts).
  | 'projection-mismatch'
  // A fact stored with an event that the streams it came from did not give at its position (src/engine/facts-check.ts).
  | 'fact-mismatch';

export interface LedgerProblem {
  stream: string;
  seq: number | null;
  kind: LedgerProblemKind;
  message: string;
  /** The document file a `document-*` problem is about, as its event names it. */
  file?: { name: string; sha256: string };
  /** The projection row and column a `projection-mismatch` (or the event and fact a `fact-mismatch`) is about, with the stored and the derived value. */
  projection?: ProjectionDifference;
}

export interface ReplayStep {
  seq: number;
  type: string;
  at: string;
  from: string | null;
  to: string;
  replayedState: string | null;
  context: unknown;
  matches: boolean;
  /** The machine version the event was replayed with (the one recorded on it). */
  machineVersion: number;
}

export interface ReplayResult {
  streamId: string;
  ok: boolean;
  steps: ReplayStep[];
  problems: LedgerProblem[];
  /** The snapshot replay reached, as the streams table stores it; null when replay was lost on the way. */
  replayedSnapshot: string | null;
}

/**
 * Where a replay resumes instead of the stream's first event: the stream as verification found it
 * after event `seq` (its hash, the machine version recorded on it and the persisted snapshot).
 * The rows given are then the events after `seq`.
 */
export interface ReplayStart {
  seq: number;
  hash: string;
  machineId: string;
  machineVersion: number;
  snapshot: string;
}

/**
 * Folds a stream's stored events through the machine version recorded on each, from the initial
 * transition, and compares every stored `to` state, the chain and the stored snapshot. It reports
 * what it finds and never throws on bad data.
 */
export function replayStream(registry: MachineRegistry, stream: StreamRow, rows: EventRow[], start?: ReplayStart): ReplayResult {
  const problems: LedgerProblem[] = [];
  const steps: ReplayStep[] = [];
  const problem = (seq: number | null, kind: LedgerProblemKind, message: string) =>
    problems.push({ stream: stream.id, seq, kind, message });
  let snapshot: AnyMachineSnapshot | undefined;
  let prevHash = GENESIS_HASH;
  let lastEntry: RegisteredMachine | undefined;
  let lost = false;
  let expectedSeq = 1;
  if (start) {
    // The caller checked that the start can be restored (`restorableStart`).
    lastEntry = registry.get(start.machineId, start.machineVersion)!;
    snapshot = restoreSnapshot(lastEntry, start.snapshot);
    prevHash = start.hash;
    expectedSeq = start.seq + 1;
  }
  const before = start?.seq ?? 0;
  let previousRow: EventRow | undefined;
  rows.forEach((row) => {
    // A gap names the first event that is missing, once; the events after it are not missing too.
    if (row.seq > expectedSeq) {
      problem(expectedSeq, 'missing-event', row.seq === expectedSeq + 1 ? `event ${expectedSeq} is missing` : `events ${expectedSeq}–${row.seq - 1} are missing`);
    } else if (row.seq < expectedSeq) {
      problem(row.seq, 'out-of-order', `expected event ${expectedSeq}, found ${row.seq}`);
    }
    expectedSeq = Math.max(expectedSeq, row.seq + 1);
    const hash = row.hash;
    if (row.prevHash !== prevHash) {
      // A link to another event of this stream means the order was changed, not just a link broken.
      const linked = rows.find((other) => other !== row && other.hash === row.prevHash);
      if (linked) problem(row.seq, 'out-of-order', `the chain puts event ${linked.seq} right before event ${row.seq}: events were reordered`);
      else problem(row.seq, 'broken-chain', `prevHash does not match the hash of the event before`);
    }
    if (previousRow && row.position < previousRow.position) {
      problem(row.seq, 'out-of-order', `event ${row.seq} stands before event ${previousRow.seq} in the global order`);
    }
    previousRow = row;
    if (hashStoredEvent(row) !== hash) problem(row.seq, 'hash-mismatch', `the stored row does not match its hash`);
    prevHash = hash;
    const entry = registry.get(row.machineId, row.machineVersion);
    if (!entry) {
      problem(row.seq, 'unknown-machine-version', `machine ${row.machineId} version ${row.machineVersion} is not registered`);
      lost = true;
      steps.push({ seq: row.seq, type: row.type, at: row.at, from: row.fromState, to: row.toState, replayedState: null, context: null, matches: false, machineVersion: row.machineVersion });
      return;
    }
    if (!hasState(entry, row.toState)) problem(row.seq, 'unknown-state', `the state ${row.toState} does not exist in ${entry.id} version ${entry.version}`);
    const previousEntry: RegisteredMachine | undefined = lastEntry;
    lastEntry = entry;
    let replayedState: string | null = null;
    try {
      if (lost) throw new Error('an earlier event could not be replayed');
      if (snapshot && previousEntry && previousEntry.version !== entry.version && row.type !== 'create') {
        const migrated = migrateSnapshot(registry, previousEntry, entry, snapshot);
        if (!migrated.ok) {
          problem(row.seq, migrated.kind, migrated.message);
          throw new Error(migrated.message);
        }
        snapshot = migrated.snapshot;
      }
      if (row.type === 'create' || snapshot === undefined) {
        snapshot = firstSnapshot(entry.machine, creationInput(row));
      } else {
        const before: AnyMachineSnapshot = snapshot;
        const next = nextSnapshot(entry.machine, before, machineEvent(row) as never);
        if (next === before) problem(row.seq, 'state-mismatch', `the machine does not take ${row.type} in ${stateToString(before.value)}`);
        snapshot = next;
      }
      replayedState = stateToString(snapshot.value);
    } catch (error) {
      const already = problems.some((p) => p.seq === row.seq && (p.kind === 'unknown-state' || p.kind === 'unknown-machine-version'));
      if (!lost && !already) problem(row.seq, 'replay-error', error instanceof Error ? error.message : String(error));
      lost = true;
    }
    const matches = replayedState === row.toState;
    if (replayedState !== null && !matches) problem(row.seq, 'state-mismatch', `stored ${row.toState}, replayed ${replayedState}`);
    steps.push({
      seq: row.seq,
      type: row.type,
      at: row.at,
      from: row.fromState,
      to: row.toState,
      replayedState,
      context: snapshot && !lost ? snapshot.context : null,
      matches,
      machineVersion: row.machineVersion,
    });
  });
  const last = rows.at(-1);
  const length = before + rows.length;
  const lastSeq = last?.seq ?? (start ? start.seq : null);
  if (stream.version !== length) problem(lastSeq, 'version-mismatch', `the stream says version ${stream.version}, the log holds ${length} events`);
  const headHash = last?.hash ?? start?.hash;
  if (headHash !== undefined && stream.headHash !== headHash) problem(lastSeq, 'head-mismatch', `the stream's head hash is not its last event's hash`);
  let replayedSnapshot: string | null = null;
  if (snapshot && lastEntry && !lost) {
    replayedSnapshot = persistSnapshot(lastEntry, snapshot);
    if (replayedSnapshot !== stream.snapshot) problem(lastSeq, 'snapshot-mismatch', `the stored snapshot differs from the replayed one`);
  }
  return { streamId: stream.id, ok: problems.length === 0, steps, problems, replayedSnapshot };
}

/** Whether a replay can resume from `start`: its machine version is registered and its snapshot restores. */
export function restorableStart(registry: MachineRegistry, start: ReplayStart): boolean {
  const entry = registry.get(start.machineId, start.machineVersion);
  if (!entry) return false;
  try {
    restoreSnapshot(entry, start.snapshot);
    return true;
  } catch {
    return false;
  }
}

export function loadStreamEvents(db: Db, streamId: string): EventRow[] {
  return statement<[string], EventRow>(db, `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY seq, position`).all(streamId);
}

/** Replays one stream as it is stored now. */
export function replayStoredStream(db: Db, registry: MachineRegistry, stream: StreamRow): ReplayResult {
  return replayStream(registry, stream, loadStreamEvents(db, stream.id));
}

