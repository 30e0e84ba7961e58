import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, streams } from '../db/schema.ts';
import type { MachineRegistry, RegisteredMachine } from '../../machines/registry.ts';
import { creationInput, machineEvent, persistSnapshot, stateToString, type EventRow, type StreamRow } from './engine.ts';
import { GENESIS_HASH, foldHead, hashEvent } from './ledger.ts';
import { hasState, migrateSnapshot } from './versions.ts';

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
  | 'replay-error'
  // The stored file an `attach-document` event names (src/engine/document-check.ts).
  | 'document-missing'
  | 'document-altered';

export interface Problem {
  stream: string;
  seq: number | null;
  kind: ProblemKind;
  message: string;
  /** The document file a `document-*` problem is about, as its event names it. */
  file?: { name: string; sha256: string };
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
  let lastEntry: RegisteredMachine | undefined;
  let lost = false;
  let expectedSeq = 1;
  let previousRow: EventRow | undefined;
  rows.forEach((row) => {
    // A gap names the first event that is missing, once; the events after it are not missing too.
    if (row.seq > expectedSeq) {
      problem(expectedSeq, 'missing-event', row.seq === expectedSeq + 1 ? `event ${expectedSeq} is missing` : `events ${expectedSeq}–${row.seq - 1} are missing`);
    } else if (row.seq < expectedSeq) {
      problem(row.seq, 'out-of-order', `expected event ${expectedSeq}, found ${row.seq}`);
    }
    expectedSeq = Math.max(expectedSeq, row.seq + 1);
    const { hash, ...rest } = row;
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
    if (hashEvent(rest) !== hash) problem(row.seq, 'hash-mismatch', `the stored row does not match its hash`);
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
        [snapshot] = initialTransition(entry.machine, creationInput(row));
      } else {
        const before: AnyMachineSnapshot = snapshot;
        const [next] = transition(entry.machine, before, machineEvent(row) as never);
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
export function verifyLedger(db: Db, registry: MachineRegistry, options: { expectedHead?: string; anchor?: LedgerAnchor } = {}): LedgerReport {
  const problems: Problem[] = [];
  const allStreams = db.select().from(streams).orderBy(asc(streams.id)).all();
  const byStream = new Map<string, EventRow[]>();
  let head = GENESIS_HASH;
  let count = 0;
  let lastPosition = 0;
  // The head after every prefix of the log: a head published earlier matches one of them while
  // the log has only grown since.
  const prefixHeads = new Map<string, number>();
  for (const row of db.select().from(events).orderBy(asc(events.position)).all()) {
    count += 1;
    if (row.position <= lastPosition) problems.push({ stream: row.streamId, seq: row.seq, kind: 'out-of-order', message: 'positions are not increasing' });
    // The engine numbers positions densely (MAX + 1): a gap is a deleted event, whichever stream it was in.
    else if (row.position !== lastPosition + 1) {
      problems.push({ stream: '*', seq: null, kind: 'missing-event', message: `global positions ${lastPosition + 1}–${row.position - 1} are missing (before event ${row.seq} of ${row.streamId})` });
    }
    lastPosition = row.position;
    head = foldHead(head, row.hash);
    prefixHeads.set(head, count);
    const list = byStream.get(row.streamId) ?? [];
    list.push(row);
    byStream.set(row.streamId, list);
  }
  const byStreamAll = new Map(byStream);
  for (const stream of allStreams) {
    // replayStream compares the seq order with the global order too: a swap shows there.
    const rows = (byStream.get(stream.id) ?? []).sort((a, b) => a.seq - b.seq || a.position - b.position);
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
  if (options.expectedHead && !prefixHeads.has(options.expectedHead)) {
    problems.push({ stream: '*', seq: null, kind: 'head-mismatch', message: `the published head ${options.expectedHead} is not the head of this log or of any earlier part of it (now ${head}): an event published then was changed, removed or cut off` });
  }
  if (options.anchor) problems.push(...compareAnchor(options.anchor, allStreams, byStreamAll, prefixHeads, head));
  return { ok: problems.length === 0, streams: allStreams.length, events: count, head, problems };
}

/**
 * What to publish outside the database, beside the head: how long the log was and where every
 * stream stood. Against it, verify names the stream and the first event of a cut tail, even when
 * the stream row was rewritten to match.
 */
export interface LedgerAnchor {
  head: string;
  events: number;
  streams: Record<string, { version: number; head: string }>;
}

export function ledgerAnchor(db: Db): LedgerAnchor {
  let head = GENESIS_HASH;
  let count = 0;
  for (const row of db.select({ hash: events.hash }).from(events).orderBy(asc(events.position)).all()) {
    head = foldHead(head, row.hash);
    count += 1;
  }
  const anchored: LedgerAnchor['streams'] = {};
  for (const stream of db.select({ id: streams.id, version: streams.version, headHash: streams.headHash }).from(streams).orderBy(asc(streams.id)).all()) {
    anchored[stream.id] = { version: stream.version, head: stream.headHash };
  }
  return { head, events: count, streams: anchored };
}

function compareAnchor(anchor: LedgerAnchor, allStreams: StreamRow[], rowsByStream: Map<string, EventRow[]>, prefixHeads: Map<string, number>, head: string): Problem[] {
  const problems: Problem[] = [];
  const current = new Map(allStreams.map((s) => [s.id, s]));
  for (const [streamId, anchored] of Object.entries(anchor.streams)) {
    const rows = rowsByStream.get(streamId) ?? [];
    const stream = current.get(streamId);
    const have = rows.length === 0 ? 0 : Math.max(...rows.map((r) => r.seq));
    if (!stream && rows.length === 0) {
      problems.push({ stream: streamId, seq: 1, kind: 'missing-event', message: `the stream had ${anchored.version} events when the anchor was taken and is gone` });
      continue;
    }
    if (have < anchored.version) {
      problems.push({ stream: streamId, seq: have + 1, kind: 'missing-event', message: have + 1 === anchored.version ? `event ${anchored.version} was in the log when the anchor was taken and is gone: the tail was cut` : `events ${have + 1}–${anchored.version} were in the log when the anchor was taken and are gone: the tail was cut` });
      continue;
    }
    const atAnchor = rows.find((r) => r.seq === anchored.version);
    if (atAnchor && atAnchor.hash !== anchored.head) {
      problems.push({ stream: streamId, seq: anchored.version, kind: 'hash-mismatch', message: `event ${anchored.version} is not the event anchored then: the stream was rewritten up to here` });
    }
  }
  const prefix = prefixHeads.get(anchor.head);
  if (anchor.events > 0 && prefix !== anchor.events) {
    problems.push({ stream: '*', seq: null, kind: 'head-mismatch', message: `the anchored head of ${anchor.events} events is not the head of the first ${anchor.events} events of this log (now ${head})` });
  }
  return problems;
}
