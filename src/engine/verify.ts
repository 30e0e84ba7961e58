import { asc } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, streams } from '../db/schema.ts';
import { statement } from '../db/statements.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { GENESIS_HASH, foldHead } from './ledger.ts';
import { replayStream, type LedgerProblem } from './replay.ts';
import type { EventRow, StreamRow } from './rows.ts';

export interface LedgerReport {
  ok: boolean;
  streams: number;
  events: number;
  head: string;
  problems: LedgerProblem[];
}

/**
 * Verifies the whole ledger: every stream replayed and chained, the global order without gaps,
 * and the head that folds every event's hash in order, to be compared with one published earlier.
 */
export function verifyLedger(db: Db, registry: MachineRegistry, options: { expectedHead?: string; anchor?: LedgerAnchor } = {}): LedgerReport {
  // The streams, the events and the sequence from one snapshot: a writer on another connection
  // between the reads is no false problem.
  return inOneSnapshot(db, () => verifySnapshot(db, registry, options));
}

/**
 * Runs reads in one deferred transaction, so that they all see one snapshot of the database while
 * other connections write (WAL). Inside a transaction already, better-sqlite3 makes it a savepoint.
 */
function inOneSnapshot<T>(db: Db, reads: () => T): T {
  return db.$client.transaction(reads).deferred();
}

function verifySnapshot(db: Db, registry: MachineRegistry, options: { expectedHead?: string; anchor?: LedgerAnchor }): LedgerReport {
  const problems: LedgerProblem[] = [];
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
  // The log and the streams from one snapshot, like verify: an anchor taken while others write is one moment's.
  return inOneSnapshot(db, () => anchorOf(db));
}

function anchorOf(db: Db): LedgerAnchor {
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

function compareAnchor(anchor: LedgerAnchor, allStreams: StreamRow[], rowsByStream: Map<string, EventRow[]>, prefixHeads: Map<string, number>, head: string): LedgerProblem[] {
  const problems: LedgerProblem[] = [];
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

/** The ledger head over the first events of the log, in global order: the whole log when `limit` is omitted. */
export function ledgerHeadOf(db: Db, limit?: number): { head: string; events: number } {
  let head = GENESIS_HASH;
  let count = 0;
  for (const row of statement<[number], { hash: string }>(db, 'SELECT hash FROM events ORDER BY position LIMIT ?').iterate(limit ?? -1)) {
    head = foldHead(head, row.hash);
    count += 1;
  }
  return { head, events: count };
}
