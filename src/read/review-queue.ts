import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';

/**
 * The review queue for a day's work (issue 16), read from `review_queue` only: each tab is one
 * lane (an equality on an index) or the whole queue, each sort a column with its own partial
 * index ending in the id, and each page a keyset seek after (or before) one application — so that
 * the first page and the ten-thousandth cost the same at a million applications. One prepared
 * statement per tab kind × sort × direction × seek, made once per connection.
 */

export const queueTabs = ['mine', 'unassigned', 'applicant', 'all'] as const;
export type QueueTab = (typeof queueTabs)[number];

/** Each sortable column and the sort key column it orders by. */
export const queueSorts = {
  number: 'application_id',
  title: 'title_key',
  municipality: 'municipality_key',
  submitted: 'first_submitted_at',
  waiting: 'waiting_since',
  deadline: 'deadline_key',
  assignee: 'assignee_key',
  state: 'state_rank',
} as const;
export type QueueSort = keyof typeof queueSorts;
export type Direction = 'asc' | 'desc';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** The queue's query string; anything malformed falls back to the default, never a 500. */
export const queueQuerySchema = z.object({
  programmeId: id.optional().catch(undefined),
  tab: z.enum(queueTabs).optional().catch(undefined),
  sort: z.enum(Object.keys(queueSorts) as [QueueSort, ...QueueSort[]]).default('waiting').catch('waiting'),
  dir: z.enum(['asc', 'desc']).default('asc').catch('asc'),
  after: id.optional().catch(undefined),
  before: id.optional().catch(undefined),
});
export type QueueQuery = z.infer<typeof queueQuerySchema>;

export interface QueueRow {
  id: number;
  title: string;
  municipalityName: string;
  assigneeId: number | null;
  assigneeName: string;
  firstSubmittedAt: string;
  waitingSince: string;
  deadlineAt: string | null;
  state: string;
  version: number;
}

export const QUEUE_PAGE_SIZE = 50;

/** The lane a tab reads, for the reviewer asking; `all` reads every lane. */
export function laneOfTab(tab: QueueTab, reviewerId: number): string | null {
  if (tab === 'mine') return `r:${reviewerId}`;
  if (tab === 'unassigned') return 'r:0';
  if (tab === 'applicant') return 'a';
  return null;
}

const COLUMNS = `application_id AS id, title, municipality_name AS municipalityName, assignee_id AS assigneeId, assignee_name AS assigneeName,
  first_submitted_at AS firstSubmittedAt, waiting_since AS waitingSince, deadline_at AS deadlineAt, state, version`;

/** The text of the statement for one combination: what EXPLAIN QUERY PLAN is checked on, too. */
export function queueStatementText(options: { lane: boolean; sort: QueueSort; dir: Direction; seek: 'none' | 'after' | 'before' }): string {
  const key = queueSorts[options.sort];
  // A page before a row is read backwards from it, and turned round afterwards.
  const backwards = options.seek === 'before';
  const ascending = (options.dir === 'asc') !== backwards;
  const order = ascending ? 'ASC' : 'DESC';
  const lane = options.lane ? 'lane = @lane' : 'lane IS NOT NULL';
  const seek =
    options.seek === 'none'
      ? ''
      : key === 'application_id'
        ? ` AND application_id ${ascending ? '>' : '<'} @id`
        : ` AND (${key}, application_id) ${ascending ? '>' : '<'} (@key, @id)`;
  const orderBy = key === 'application_id' ? `application_id ${order}` : `${key} ${order}, application_id ${order}`;
  return `SELECT ${COLUMNS} FROM review_queue WHERE programme_id = @programmeId AND ${lane}${seek} ORDER BY ${orderBy} LIMIT @limit`;
}

export interface QueuePage {
  rows: QueueRow[];
  /** The id to seek after for the next page, and before for the previous one; absent at an end. */
  nextAfter: number | null;
  prevBefore: number | null;
}

export function reviewQueueReads(db: Db) {
  const keyOf = (sort: QueueSort, applicationId: number) =>
    statement<[number], { key: string | number; programmeId: number }>(db, `SELECT ${queueSorts[sort]} AS key, programme_id AS programmeId FROM review_queue WHERE application_id = ?`).get(applicationId);

  function seekRows(programmeId: number, lane: string | null, sort: QueueSort, dir: Direction, seek: 'none' | 'after' | 'before', fromId: number | undefined, limit: number): QueueRow[] {
    const text = queueStatementText({ lane: lane !== null, sort, dir, seek });
    const params: Record<string, unknown> = { programmeId, limit };
    if (lane !== null) params.lane = lane;
    if (seek !== 'none') {
      const from = keyOf(sort, fromId!);
      // A cursor that names no row of this queue starts from the beginning.
      if (!from || from.programmeId !== programmeId) return seekRows(programmeId, lane, sort, dir, 'none', undefined, limit);
      params.id = fromId;
      if (sort !== 'number') params.key = from.key;
    }
    const rows = statement<[Record<string, unknown>], QueueRow>(db, text).all(params);
    return seek === 'before' ? rows.reverse() : rows;
  }

  return {
    /** One page of a tab, sorted and sought as the query says. */
    page(programmeId: number, tab: QueueTab, reviewerId: number, query: Pick<QueueQuery, 'sort' | 'dir' | 'after' | 'before'>, size = QUEUE_PAGE_SIZE): QueuePage {
      const lane = laneOfTab(tab, reviewerId);
      const seek = query.after ? 'after' : query.before ? 'before' : 'none';
      const fromId = query.after ?? query.before;
      // One row more than a page says whether another page follows in the direction read.
      const read = seekRows(programmeId, lane, query.sort, query.dir, seek, fromId, size + 1);
      const more = read.length > size;
      const rows = seek === 'before' ? read.slice(more ? 1 : 0) : read.slice(0, size);
      const first = rows[0];
      const last = rows.at(-1);
      const hasNext = seek === 'before' ? rows.length > 0 : more;
      const hasPrev = seek === 'before' ? more : seek === 'after' && rows.length > 0;
      return { rows, nextAfter: hasNext && last ? last.id : null, prevBefore: hasPrev && first ? first.id : null };
    },
    /** The application after this one in the tab's order: "next" on the application page. */
    next(programmeId: number, tab: QueueTab, reviewerId: number, sort: QueueSort, dir: Direction, fromId: number): QueueRow | undefined {
      return seekRows(programmeId, laneOfTab(tab, reviewerId), sort, dir, 'after', fromId, 1).find((row) => row.id !== fromId);
    },
    /** The count of every tab, from the counter table the triggers keep. */
    counts(programmeId: number, reviewerId: number): Record<QueueTab, number> {
      const lanes = statement<[number], { lane: string; count: number }>(db, 'SELECT lane, count FROM review_queue_counts WHERE programme_id = ?').all(programmeId);
      const of = (lane: string) => lanes.find((row) => row.lane === lane)?.count ?? 0;
      return {
        mine: of(`r:${reviewerId}`),
        unassigned: of('r:0'),
        applicant: of('a'),
        all: lanes.reduce((sum, row) => sum + row.count, 0),
      };
    },
    /** Whether an application is in the queue of this programme, and where. */
    laneOf(applicationId: number): { lane: string | null; programmeId: number } | undefined {
      return statement<[number], { lane: string | null; programmeId: number }>(db, 'SELECT lane, programme_id AS programmeId FROM review_queue WHERE application_id = ?').get(applicationId);
    },
  };
}
