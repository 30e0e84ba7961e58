import { asc } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { events, streams } from '../db/schema.ts';
import { statement } from '../db/statements.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import { GENESIS_HASH, foldHead } from './ledger.ts';
import { EVENT_COLUMNS, STREAM_COLUMNS, eventRowOf, replayStream, restorableStart, type LedgerProblem, type ReplayStart } from './replay.ts';
import type { EventRow, StreamRow } from './rows.ts';
import { projectionRows, type ProjectionDifference } from './projections.ts';
import { recordProblems } from './record-checks.ts';

export interface LedgerReport {
  ok: boolean;
  streams: number;
  events: number;
  head: string;
  problems: LedgerProblem[];
  /** Whether every event was replayed and hashed (a full verify), or only those after the checkpoints. */
  full: boolean;
  /** How many events were replayed and hashed this time: every event in a full verify. */
  replayed: number;
}

export interface VerifyOptions {
  expectedHead?: string;
  anchor?: LedgerAnchor;
  /**
   * Replay each stream only from its checkpoint (verify_checkpoints) on, after checking that the
   * event there still carries the hash verified then. A tampered event below a checkpoint is found
   * by a full verify only: the default.
   */
  incremental?: boolean;
  /** Told now and then how many of the log's events are checked (a checkpointed event counts as checked). */
  onProgress?: (checked: number, total: number) => void;
}

/** Where a verify found a stream sound, to be saved for the next incremental one. */
export interface Checkpoint {
  streamId: string;
  length: number;
  headHash: string;
  machineId: string;
  machineVersion: number;
  snapshot: string;
  verifiedAt: string;
}

/** What a verify leaves for the next: the checkpoints it reached, and the streams whose checkpoint no longer holds. */
export interface CheckpointUpdate {
  save: Checkpoint[];
  drop: string[];
}

/**
 * Verifies the whole ledger: every stream replayed and chained, the global order without gaps,
 * and the head that folds every event's hash in order, to be compared with one published earlier.
 */
export function verifyLedger(db: Db, registry: MachineRegistry, options: VerifyOptions = {}): LedgerReport {
  return verifyWithCheckpoints(db, registry, options).report;
}

/** verifyLedger, and the checkpoints it reached (to be written with `saveCheckpoints`, on a connection that may write). */
export function verifyWithCheckpoints(db: Db, registry: MachineRegistry, options: VerifyOptions = {}): { report: LedgerReport; checkpoints: CheckpointUpdate } {
  // The streams, the events, the sequence and the checkpoints from one snapshot: a writer on
  // another connection between the reads is no false problem.
  return inOneSnapshot(db, () => verifySnapshot(db, registry, options));
}

/**
 * Runs reads in one deferred transaction, so that they all see one snapshot of the database while
 * other connections write (WAL). Inside a transaction already, better-sqlite3 makes it a savepoint.
 */
function inOneSnapshot<T>(db: Db, reads: () => T): T {
  return db.$client.transaction(reads).deferred();
}

/** One event as the global pass reads it: its place, its hash and when it was written. */
type GlobalRow = Pick<EventRow, 'position' | 'streamId' | 'seq' | 'hash' | 'at'>;

const PROGRESS_EVERY = 500;

function verifySnapshot(db: Db, registry: MachineRegistry, options: VerifyOptions): { report: LedgerReport; checkpoints: CheckpointUpdate } {
  const full = !options.incremental;
  const problems: LedgerProblem[] = [];
  // Prepared statements, not the query builder: drizzle maps every row of these whole tables column by column.
  const allStreams = statement<[], StreamRow>(db, `SELECT ${STREAM_COLUMNS} FROM streams ORDER BY id`).all();
  const saved = full
    ? new Map<string, Checkpoint>()
    : new Map(
        statement<[], Checkpoint>(
          db,
          'SELECT stream_id AS streamId, length, head_hash AS headHash, machine_id AS machineId, machine_version AS machineVersion, snapshot, verified_at AS verifiedAt FROM verify_checkpoints',
        )
          .all()
          .map((c) => [c.streamId, c]),
      );
  const byStream = new Map<string, GlobalRow[]>();
  let head = GENESIS_HASH;
  let count = 0;
  let lastPosition = 0;
  // The head after a prefix of the log, for the heads asked about (the published one, the anchor's):
  // a head published earlier matches one of the prefixes while the log has only grown since.
  const prefixHeads = new Map<string, number>();
  // The heads asked about: the published one, the anchor's, and each one a commission decision quotes (its protocol prints it).
  const askedHeads = new Set<string>(statement<[], { head: string }>(db, 'SELECT ledger_head AS head FROM commission_decisions').all().map((row) => row.head));
  if (options.expectedHead) askedHeads.add(options.expectedHead);
  if (options.anchor) askedHeads.add(options.anchor.head);
  // The order, the gaps and the head are checked over the whole log every time: one pass over a
  // column or two. What a checkpoint saves is the replay and the hashing of every row.
  // Its five columns only (issue 18.4; they are kept by stream below anyway): the rows a stream
  // replays are read with it, stream by stream, so that one stream's whole rows are held at a time.
  const globalRows = statement<[], GlobalRow>(db, 'SELECT position, stream_id AS streamId, seq, hash, at FROM events ORDER BY position').all();
  for (const row of globalRows) {
    count += 1;
    if (row.position <= lastPosition) problems.push({ stream: row.streamId, seq: row.seq, kind: 'out-of-order', message: 'positions are not increasing' });
    // The engine numbers positions densely (MAX + 1): a gap is a deleted event, whichever stream it was in.
    else if (row.position !== lastPosition + 1) {
      problems.push({ stream: '*', seq: null, kind: 'missing-event', message: `global positions ${lastPosition + 1}–${row.position - 1} are missing (before event ${row.seq} of ${row.streamId})` });
    }
    lastPosition = row.position;
    head = foldHead(head, row.hash);
    // Only the heads asked about are kept (issue 18.4): a map of every prefix's head was a string key per event.
    if (askedHeads.has(head)) prefixHeads.set(head, count);
    const list = byStream.get(row.streamId);
    if (list) list.push(row);
    else byStream.set(row.streamId, [row]);
  }
  const byStreamAll = new Map(byStream);
  // In raw mode (values in EVENT_COLUMNS' order, made rows by eventRowOf); their own texts, so that
  // the statement cache never hands a raw statement to a reader that expects objects.
  const eventsAfter = statement<[string, number], unknown[]>(db, `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq > ? ORDER BY seq, position /* raw */`).raw();
  // Every row of the stream, whatever its seq says (a tampered seq of 0 is still replayed, and named).
  const eventsAll = statement<[string], unknown[]>(db, `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY seq, position /* raw */`).raw();
  const eventsOf = (streamId: string, after: number | undefined): EventRow[] =>
    (after === undefined ? eventsAll.all(streamId) : eventsAfter.all(streamId, after)).map(eventRowOf);
  const projected = projectionRows(db);
  const verifiedAt = new Date().toISOString();
  const checkpoints: CheckpointUpdate = { save: [], drop: [] };
  let checked = 0;
  let reported = 0;
  let replayed = 0;
  for (const stream of allStreams) {
    const light = (byStream.get(stream.id) ?? []).sort((a, b) => a.seq - b.seq || a.position - b.position);
    byStream.delete(stream.id);
    const checkpoint = saved.get(stream.id);
    const streamProblems: LedgerProblem[] = [];
    const from: ReplayStart | undefined = checkpoint && {
      seq: checkpoint.length,
      hash: checkpoint.headHash,
      machineId: checkpoint.machineId,
      machineVersion: checkpoint.machineVersion,
      snapshot: checkpoint.snapshot,
    };
    let start: ReplayStart | undefined;
    if (checkpoint && from && restorableStart(registry, from)) {
      const at = light.find((r) => r.seq === checkpoint.length);
      if (!at) {
        streamProblems.push({ stream: stream.id, seq: checkpoint.length, kind: 'missing-event', message: `event ${checkpoint.length}, verified on ${checkpoint.verifiedAt}, is gone` });
      } else if (at.hash !== checkpoint.headHash) {
        streamProblems.push({ stream: stream.id, seq: checkpoint.length, kind: 'hash-mismatch', message: `event ${checkpoint.length} is not the event verified on ${checkpoint.verifiedAt}: the stream was rewritten up to here` });
      } else if (light.length >= checkpoint.length && light[checkpoint.length - 1] === at) {
        start = from;
      }
      // Otherwise (events missing or doubled below the checkpoint) the whole stream is replayed, to name them.
    }
    let rows: EventRow[];
    // The snapshot the stream was found sound with: what its projection rows are derived from.
    let sound: string | null = null;
    if (start && light.length === start.seq && stream.version === start.seq && stream.headHash === start.hash && stream.snapshot === start.snapshot) {
      // Nothing appended since the checkpoint, and the stream row is what verify left.
      checked += light.length;
      sound = start.snapshot;
    } else {
      rows = eventsOf(stream.id, start?.seq);
      // replayStream compares the seq order with the global order too: a swap shows there.
      const result = replayStream(registry, stream, rows, start);
      streamProblems.push(...result.problems);
      replayed += rows.length;
      checked += light.length;
      const last = rows.at(-1);
      if (streamProblems.length === 0) sound = result.replayedSnapshot;
      if (streamProblems.length === 0 && last && result.replayedSnapshot !== null) {
        checkpoints.save.push({ streamId: stream.id, length: last.seq, headHash: last.hash, machineId: last.machineId, machineVersion: last.machineVersion, snapshot: result.replayedSnapshot, verifiedAt });
      }
    }
    const lastRow = light.at(-1);
    if (sound !== null && lastRow) {
      // What the pages and the guards read is what the ledger proves (issue 17.2): the projection rows, column by column.
      for (const difference of projected.differences({ id: stream.id, machineId: stream.machineId, snapshot: sound, length: light.length, lastAt: lastRow.at })) {
        problems.push({ stream: stream.id, seq: null, kind: 'projection-mismatch', message: projectionMessage(difference), projection: difference });
      }
    }
    if (streamProblems.length > 0) {
      problems.push(...streamProblems);
      // A stream found wrong is replayed whole next time too, until it is sound again.
      checkpoints.drop.push(stream.id);
    }
    if (options.onProgress && checked - reported >= PROGRESS_EVERY) {
      reported = checked;
      options.onProgress(checked, count);
    }
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
  // The records beside the log that the pages print, proven by what the events sealed (issue 17.2).
  problems.push(...recordProblems(db, prefixHeads));
  if (options.anchor) problems.push(...compareAnchor(options.anchor, allStreams, byStreamAll, prefixHeads, head));
  options.onProgress?.(count, count);
  const report = { ok: problems.length === 0, streams: allStreams.length, events: count, head, problems, full, replayed };
  return { report, checkpoints };
}

function projectionMessage(d: ProjectionDifference): string {
  if (d.column === '*') return `the ${d.table} table has no row for this stream`;
  return `${d.table} ${d.key}: ${d.column} is ${JSON.stringify(d.stored)}, the ledger gives ${JSON.stringify(d.derived)}`;
}

/**
 * Writes what a verify reached: a checkpoint never moves back (a slower verify of an older
 * snapshot finishing last keeps the newer one), and a stream found wrong loses its checkpoint.
 */
export function saveCheckpoints(db: Db | Database.Database, update: CheckpointUpdate): void {
  if (update.save.length === 0 && update.drop.length === 0) return;
  const upsert = statement<[Checkpoint]>(
    db,
    `INSERT INTO verify_checkpoints (stream_id, length, head_hash, machine_id, machine_version, snapshot, verified_at)
     VALUES (@streamId, @length, @headHash, @machineId, @machineVersion, @snapshot, @verifiedAt)
     ON CONFLICT (stream_id) DO UPDATE SET length = excluded.length, head_hash = excluded.head_hash, machine_id = excluded.machine_id,
       machine_version = excluded.machine_version, snapshot = excluded.snapshot, verified_at = excluded.verified_at
     WHERE excluded.length >= verify_checkpoints.length`,
  );
  const remove = statement<[string]>(db, 'DELETE FROM verify_checkpoints WHERE stream_id = ?');
  const sqlite = '$client' in db ? db.$client : db;
  sqlite.transaction(() => {
    for (const checkpoint of update.save) upsert.run(checkpoint);
    for (const streamId of update.drop) remove.run(streamId);
  }).immediate();
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

function compareAnchor(anchor: LedgerAnchor, allStreams: StreamRow[], rowsByStream: Map<string, GlobalRow[]>, prefixHeads: Map<string, number>, head: string): LedgerProblem[] {
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
