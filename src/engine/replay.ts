import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, streams } from '../db/schema.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { creationInput, machineEvent, persistSnapshot, stateToString, type EventRow, type StreamRow } from './engine.ts';
import { GENESIS_HASH, foldHead, hashEvent } from './ledger.ts';

export type ProblemKind =
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
  | 'replay-error';

export interface Problem {
  stream: string;
  seq: number | null;
  kind: ProblemKind;
  message: string;
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
}

export interface ReplayResult {
  streamId: string;
  ok: boolean;
  steps: ReplayStep[];
  problems: Problem[];
}

/**
 * Folds a stream's stored events through the machine version recorded on each, from the initial
 * transition, and compares every stored `to` state, the chain and the stored snapshot. It reports
 * what it finds and never throws on bad data.
 */
export function replayStream(registry: MachineRegistry, stream: StreamRow, rows: EventRow[]): ReplayResult {
  const problems: Problem[] = [];
  const steps: ReplayStep[] = [];
  const problem = (seq: number | null, kind: ProblemKind, message: string) =>
    problems.push({ stream: stream.id, seq, kind, message });
  let snapshot: AnyMachineSnapshot | undefined;
  let prevHash = GENESIS_HASH;
  let lastEntry;
  let lost = false;
  let expectedSeq = 1;
  rows.forEach((row) => {
    // A gap names the first event that is missing, once; the events after it are not missing too.
    if (row.seq > expectedSeq) {
      problem(expectedSeq, 'missing-event', row.seq === expectedSeq + 1 ? `event ${expectedSeq} is missing` : `events ${expectedSeq}–${row.seq - 1} are missing`);
    } else if (row.seq < expectedSeq) {
      problem(row.seq, 'out-of-order', `expected event ${expectedSeq}, found ${row.seq}`);
    }
    expectedSeq = Math.max(expectedSeq, row.seq + 1);
    const { hash, ...rest } = row;
    if (row.prevHash !== prevHash) problem(row.seq, 'broken-chain', `prevHash does not match the hash of the event before`);
    if (hashEvent(rest) !== hash) problem(row.seq, 'hash-mismatch', `the stored row does not match its hash`);
    prevHash = hash;
    const entry = registry.get(row.machineId, row.machineVersion);
    if (!entry) {
      problem(row.seq, 'unknown-machine-version', `machine ${row.machineId} version ${row.machineVersion} is not registered`);
      lost = true;
      steps.push({ seq: row.seq, type: row.type, at: row.at, from: row.fromState, to: row.toState, replayedState: null, context: null, matches: false });
      return;
    }
    lastEntry = entry;
    let replayedState: string | null = null;
    try {
      if (lost) throw new Error('an earlier event could not be replayed');
      if (row.type === 'create' || snapshot === undefined) {
        [snapshot] = initialTransition(entry.machine, creationInput(row));
      } else {
        const before: AnyMachineSnapshot = snapshot;
        const [next] = transition(entry.machine, before, machineEvent(row) as never);
        if (next === before) problem(row.seq, 'state-mismatch', `the machine does not take ${row.type} in ${stateToString(before.value)}`);
        snapshot = next;
      }
      replayedState = stateToString(snapshot.value);
    } catch (error) {
      lost = true;
      problem(row.seq, 'replay-error', error instanceof Error ? error.message : String(error));
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
    });
  });
  const last = rows.at(-1);
  if (stream.version !== rows.length) problem(last?.seq ?? null, 'version-mismatch', `the stream says version ${stream.version}, the log holds ${rows.length} events`);
  if (last && stream.headHash !== last.hash) problem(last.seq, 'head-mismatch', `the stream's head hash is not its last event's hash`);
  if (snapshot && lastEntry && !lost) {
    const replayed = persistSnapshot(lastEntry, snapshot);
    if (replayed !== stream.snapshot) problem(last?.seq ?? null, 'snapshot-mismatch', `the stored snapshot differs from the replayed one`);
  }
  return { streamId: stream.id, ok: problems.length === 0, steps, problems };
}

export function loadStreamEvents(db: Db, streamId: string): EventRow[] {
  return db.select().from(events).where(eq(events.streamId, streamId)).orderBy(asc(events.seq), asc(events.position)).all();
}

export interface LedgerReport {
  ok: boolean;
  streams: number;
  events: number;
  head: string;
  problems: Problem[];
}

/**
 * Verifies the whole ledger: every stream replayed and chained, the global order without gaps,
 * and the head that folds every event's hash in order, to be compared with one published earlier.
 */
export function verifyLedger(db: Db, registry: MachineRegistry, options: { expectedHead?: string } = {}): LedgerReport {
  const problems: Problem[] = [];
  const allStreams = db.select().from(streams).orderBy(asc(streams.id)).all();
  const byStream = new Map<string, EventRow[]>();
  let head = GENESIS_HASH;
  let count = 0;
  let lastPosition = 0;
  for (const row of db.select().from(events).orderBy(asc(events.position)).all()) {
    count += 1;
    if (row.position <= lastPosition) problems.push({ stream: row.streamId, seq: row.seq, kind: 'out-of-order', message: 'positions are not increasing' });
    // The engine numbers positions densely (MAX + 1): a gap is a deleted event, whichever stream it was in.
    else if (row.position !== lastPosition + 1) {
      problems.push({ stream: '*', seq: null, kind: 'missing-event', message: `global positions ${lastPosition + 1}–${row.position - 1} are missing (before event ${row.seq} of ${row.streamId})` });
    }
    lastPosition = row.position;
    head = foldHead(head, row.hash);
    const list = byStream.get(row.streamId) ?? [];
    list.push(row);
    byStream.set(row.streamId, list);
  }
  for (const stream of allStreams) {
    const rows = (byStream.get(stream.id) ?? []).sort((a, b) => a.seq - b.seq || a.position - b.position);
    for (let i = 1; i < rows.length; i += 1) {
      if (rows[i]!.position < rows[i - 1]!.position) {
        problems.push({ stream: stream.id, seq: rows[i]!.seq, kind: 'out-of-order', message: `event ${rows[i]!.seq} stands before event ${rows[i - 1]!.seq} in the global order` });
      }
    }
    problems.push(...replayStream(registry, stream, rows).problems);
    byStream.delete(stream.id);
  }
  for (const [streamId, rows] of byStream) {
    problems.push({ stream: streamId, seq: rows[0]?.seq ?? null, kind: 'missing-event', message: 'events of a stream that has no stream row' });
  }
  // AUTOINCREMENT remembers the highest position ever given: a log shorter than that lost its tail.
  const sequence = db.$client.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get()?.seq ?? 0;
  if (sequence > lastPosition) {
    problems.push({ stream: '*', seq: null, kind: 'missing-event', message: `events up to position ${sequence} were written, the log ends at ${lastPosition}` });
  }
  if (options.expectedHead && options.expectedHead !== head) {
    problems.push({ stream: '*', seq: null, kind: 'head-mismatch', message: `the ledger head ${head} is not the published ${options.expectedHead}` });
  }
  return { ok: problems.length === 0, streams: allStreams.length, events: count, head, problems };
}
