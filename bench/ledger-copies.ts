import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { hashEvent, type HashedEventRow } from '../src/engine/ledger.ts';
import { EVENT_COLUMNS } from '../src/engine/replay.ts';

/**
 * Grows a ledger for the verify bench (issue 18.4) by copying engine-made streams with their chains
 * intact: every application, journal and conversation stream of the database, `copies` times, each
 * copy under a new stream id (`<id>~<k>`), its events appended at the end of the log with new
 * positions and every hash chained again, its stream row and its projection rows (applications,
 * scoring, scores) copied with it — so that a whole-ledger verify finds the copies sound, and does
 * for each what it does for the original. Stages and reviewers are not copied (a programme has one
 * stage of each number). Registration numbers are left empty on the copies (they are unique, and
 * verify does not derive them).
 */
/** The INSERT of an event row with every column: what the copies of the bench write. */
export const INSERT_EVENT_SQL = `INSERT INTO events (position, stream_id, seq, type, payload, facts, actor, at, from_state, to_state, machine_id, machine_version, prev_hash, hash)
     VALUES (@position, @streamId, @seq, @type, @payload, @facts, @actor, @at, @fromState, @toState, @machineId, @machineVersion, @prevHash, @hash)`;

/** An engine-made event as the copy of it in another stream, at another position, after another hash: its own hash again. */
export function rechained(row: HashedEventRow & { hash?: string }, streamId: string, position: number, prevHash: string): HashedEventRow & { hash: string } {
  const { hash: _hash, ...rest } = row;
  const copy: HashedEventRow = { ...rest, position, streamId, prevHash };
  return { ...copy, hash: hashEvent(copy) };
}

export function copyStreams(path: string, copies: number): { events: number; ms: number } {
  const db = new Database(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = OFF');
  const started = performance.now();
  const kinds = "('application', 'journal', 'conversation')";
  const source = db.prepare<[], HashedEventRow & { hash: string }>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id IN (SELECT id FROM streams WHERE machine_id IN ${kinds}) ORDER BY position`,
  ).all();
  const streamsOf = db.prepare<[], { id: string }>(`SELECT id FROM streams WHERE machine_id IN ${kinds}`).all();
  const insertEvent = db.prepare(INSERT_EVENT_SQL);
  const insertStream = db.prepare(
    `INSERT INTO streams (id, kind, machine_id, machine_version, state, snapshot, version, head_hash, updated_at)
     SELECT @to, kind, machine_id, machine_version, state, snapshot, version, @head, updated_at FROM streams WHERE id = @from`,
  );
  const maxAppId = () => db.prepare<[], { n: number }>('SELECT COALESCE(MAX(id), 0) AS n FROM applications').get()!.n;
  let position = db.prepare<[], { n: number }>('SELECT COALESCE(MAX(position), 0) AS n FROM events').get()!.n;
  let added = 0;
  db.transaction(() => {
    for (let k = 1; k <= copies; k += 1) {
      const heads = new Map<string, string>();
      for (const row of source) {
        position += 1;
        const streamId = `${row.streamId}~${k}`;
        const copy = rechained(row, streamId, position, heads.get(streamId) ?? '0'.repeat(64));
        heads.set(streamId, copy.hash);
        insertEvent.run(copy);
        added += 1;
      }
      for (const { id } of streamsOf) insertStream.run({ to: `${id}~${k}`, from: id, head: heads.get(`${id}~${k}`) ?? '0'.repeat(64) });
      const offset = maxAppId();
      db.prepare(
        `INSERT INTO applications (id, stream_id, programme_id, municipality_id, title, project_type, settlement, search, state, version, subsidy_kopecks, total_kopecks,
           awarded_kopecks, first_submitted_at, created_at, updated_at, registration_no, registration_seq, agreed_kopecks, received_kopecks, spent_kopecks, progress_percent)
         SELECT id + @offset, stream_id || @suffix, programme_id, municipality_id, title, project_type, settlement, search, state, version, subsidy_kopecks, total_kopecks,
           awarded_kopecks, first_submitted_at, created_at, updated_at, NULL, NULL, agreed_kopecks, received_kopecks, spent_kopecks, progress_percent
         FROM applications WHERE stream_id NOT LIKE '%~%'`,
      ).run({ offset, suffix: `~${k}` });
      db.prepare(`INSERT INTO application_scoring SELECT application_id + @offset, population, beneficiaries, meeting_attendance, subsidy_kopecks, local_budget_kopecks,
           residents_kopecks, business_kopecks, non_monetary_kopecks FROM application_scoring WHERE application_id <= @top`).run({ offset, top: firstCopyBound(db) });
      db.prepare('INSERT INTO scores SELECT application_id + @offset, member_id, significance_centi, comment, at FROM scores WHERE application_id <= @top').run({ offset, top: firstCopyBound(db) });
    }
  })();
  db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(position);
  db.close();
  return { events: added, ms: performance.now() - started };
}

/** The highest id of an original (not copied) application. */
function firstCopyBound(db: Database.Database): number {
  return db.prepare<[], { n: number }>("SELECT COALESCE(MAX(id), 0) AS n FROM applications WHERE stream_id NOT LIKE '%~%'").get()!.n;
}
