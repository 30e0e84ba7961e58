import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import type { EventRow, StreamRow } from '../../engine/engine.ts';
import type { ApplicationContext } from '../../../machines/application.ts';

/** The queue's order of the states it holds; anything else has left the queue. */
const stateRanks: Record<string, number> = { submitted: 1, 'under-review': 2, returned: 3 };

/**
 * Where an application waits (issue 16): with a reviewer (`r:<id>`, `r:0` for nobody yet) while a
 * reviewer has to act, with the applicant (`a`) while it is back for revision, nowhere otherwise.
 */
export function laneOf(state: string, assigneeId: number | null): string | null {
  if (state === 'submitted' || state === 'under-review') return `r:${assigneeId ?? 0}`;
  if (state === 'returned') return 'a';
  return null;
}

/** A sort key: SQLite's lower() folds only ASCII, and the names are Cyrillic. */
export const sortKey = (text: string): string => text.toLocaleLowerCase('ru');

/** The events after which the application waits anew: a submission starts the reviewer's clock, a return the applicant's. */
const startsWaiting = new Set(['submit', 'return-for-revision']);

/**
 * Keeps `review_queue` in step with an application, in its event's transaction: its lane, its
 * sort keys and how long it has waited, read from the event itself (the log), never recomputed per
 * row when the queue is listed. Applications never submitted have no row.
 */
export function reviewQueueProjection(db: Db) {
  const sqlite = db.$client;
  const rowOf = sqlite.prepare<[string], { id: number; programmeId: number; municipalityId: number; municipalityName: string }>(
    `SELECT a.id, a.programme_id AS programmeId, a.municipality_id AS municipalityId, m.name AS municipalityName
     FROM applications a JOIN municipalities m ON m.id = a.municipality_id WHERE a.stream_id = ?`,
  );
  const nameOf = sqlite.prepare<[number], { name: string }>('SELECT name FROM users WHERE id = ?');
  const upsert = sqlite.prepare(
    `INSERT INTO review_queue (application_id, programme_id, lane, state, version, state_rank, title, title_key, municipality_id, municipality_name, municipality_key,
       assignee_id, assignee_name, assignee_key, first_submitted_at, waiting_since)
     VALUES (@applicationId, @programmeId, @lane, @state, @version, @stateRank, @title, @titleKey, @municipalityId, @municipalityName, @municipalityKey,
       @assigneeId, @assigneeName, @assigneeKey, @firstSubmittedAt, @waitingSince)
     ON CONFLICT (application_id) DO UPDATE SET lane = excluded.lane, state = excluded.state, version = excluded.version, state_rank = excluded.state_rank, title = excluded.title,
       title_key = excluded.title_key, municipality_name = excluded.municipality_name, municipality_key = excluded.municipality_key,
       assignee_id = excluded.assignee_id, assignee_name = excluded.assignee_name, assignee_key = excluded.assignee_key,
       waiting_since = CASE WHEN @restarts THEN excluded.waiting_since ELSE review_queue.waiting_since END`,
  );
  return (stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow): void => {
    const context = snapshot.context as ApplicationContext;
    if (!context.firstSubmittedAt) return;
    const row = rowOf.get(stream.id);
    if (!row) return;
    const assigneeId = context.assigneeId ?? null;
    const assigneeName = assigneeId === null ? '' : (nameOf.get(assigneeId)?.name ?? '');
    const title = context.form.title ?? '';
    upsert.run({
      applicationId: row.id,
      programmeId: row.programmeId,
      lane: laneOf(stream.state, assigneeId),
      state: stream.state,
      version: stream.version,
      stateRank: stateRanks[stream.state] ?? 4,
      title,
      titleKey: sortKey(title),
      municipalityId: row.municipalityId,
      municipalityName: row.municipalityName,
      municipalityKey: sortKey(row.municipalityName),
      assigneeId,
      assigneeName,
      assigneeKey: sortKey(assigneeName),
      firstSubmittedAt: context.firstSubmittedAt,
      waitingSince: event.at,
      restarts: startsWaiting.has(event.type) ? 1 : 0,
    });
  };
}

/** A municipality's new name in the queue's rows (its sort key folded as the projection folds it). */
export function renameInReviewQueue(db: Db, change: { municipalityId?: number; userId?: number; name: string }): void {
  const key = sortKey(change.name);
  if (change.municipalityId !== undefined) {
    db.$client.prepare('UPDATE review_queue SET municipality_name = ?, municipality_key = ? WHERE municipality_id = ?').run(change.name, key, change.municipalityId);
  }
  if (change.userId !== undefined) {
    db.$client.prepare('UPDATE review_queue SET assignee_name = ?, assignee_key = ? WHERE assignee_id = ?').run(change.name, key, change.userId);
  }
}
