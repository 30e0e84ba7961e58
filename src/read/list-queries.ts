import { AUDIT_SEARCH_SQL } from '../audit/search.ts';
import { REGISTER_PAGE_SQL, REGISTER_ROWS_SQL, REGISTER_TOTALS_SQL } from '../workflows/application/register.ts';
import { APPLICATION_STATE_COUNTS_SQL } from '../workflows/stage/reads.ts';
import { INBOX_LISTS } from '../workflows/notifications/inbox.ts';
import { OUTBOX_LISTS } from '../workflows/notifications/outbox-admin.ts';
import { applicationListQueries } from './applications.ts';
import { queueSorts, queueStatementText, type QueueSort } from './review-queue.ts';

/**
 * One statement a list page runs, with parameters like a request's. `fullScan` says why reading
 * every row of a big table is the only way (a substring searched for): the plan test lets that one
 * statement scan, and no other.
 */
export interface ListQuery {
  name: string;
  sql: string;
  params: Record<string, unknown> | unknown[];
  fullScan?: string;
}

/**
 * Every list query of the pages (issue 18.3): the review queue's tabs × sorts × directions × seeks
 * and its counts, the applications list and its tabs' counts, the register, the auditor's search,
 * the programme's counts per state, the inbox and the outbox. A list page's statement is added here, where
 * test/int/query-plans.int.test.ts runs EXPLAIN QUERY PLAN on each against a migrated database and
 * fails on a scan of the applications or the events or a sort in a temporary B-tree.
 */
export function listQueries(): ListQuery[] {
  const queue: ListQuery[] = [];
  for (const lane of [true, false]) {
    for (const sort of Object.keys(queueSorts) as QueueSort[]) {
      for (const dir of ['asc', 'desc'] as const) {
        for (const seek of ['none', 'after', 'before'] as const) {
          queue.push({
            name: `review queue lane=${lane} sort=${sort} dir=${dir} seek=${seek}`,
            sql: queueStatementText({ lane, sort, dir, seek }),
            params: { programmeId: 2, lane: 'a', key: 'x', id: 1, limit: 51 },
          });
        }
      }
    }
  }
  return [
    ...queue,
    { name: 'review queue counts', sql: 'SELECT lane, count FROM review_queue_counts WHERE programme_id = ?', params: [2] },
    ...applicationListQueries(),
    { name: 'register rows', sql: REGISTER_ROWS_SQL, params: { programmeId: 2, municipalityId: 3, state: 'accepted' } },
    // The register's page in the order of numbering, both ways, along (programme, number); its totals, one aggregate.
    { name: 'register page', sql: REGISTER_PAGE_SQL.number, params: { programmeId: 2, municipalityId: null, state: null, limit: 100, offset: 0 } },
    { name: 'register page, last number first', sql: REGISTER_PAGE_SQL.numberDesc, params: { programmeId: 2, municipalityId: null, state: null, limit: 100, offset: 100 } },
    { name: 'register totals', sql: REGISTER_TOTALS_SQL, params: { programmeId: 2, municipalityId: 3, state: 'accepted' } },
    {
      name: 'audit search',
      sql: AUDIT_SEARCH_SQL,
      params: { onlyMunicipality: null, q: 'клуб', id: null, municipalities: '[]' },
      fullScan: 'a word searched in every application: a substring is found by reading each search text (in id order, stopped at 200 found)',
    },
    { name: 'programme counts per state', sql: APPLICATION_STATE_COUNTS_SQL, params: [2] },
    { name: 'inbox unread', sql: INBOX_LISTS.unread, params: [5, 200] },
    { name: 'inbox read', sql: INBOX_LISTS.read, params: [5, 200] },
    { name: 'outbox counts', sql: OUTBOX_LISTS.counts, params: [] },
    { name: 'outbox failed', sql: OUTBOX_LISTS.failed, params: [] },
    { name: 'outbox waiting', sql: OUTBOX_LISTS.waiting, params: [] },
  ];
}
