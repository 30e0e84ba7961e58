import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { openDb, type Db } from '../../src/db/client.ts';
import { listQueries, type ListQuery } from '../../src/read/list-queries.ts';

/** The tables that grow with the programme: a list may not read one whole, nor sort its rows in a temporary B-tree. */
const BIG_TABLES = ['applications', 'events', 'streams', 'review_queue', 'application_state_spells', 'scores', 'application_scoring', 'notifications', 'journal_entries'];

/** The tables (by name or alias) a plan step reads, and how. */
function aliasesOf(sql: string): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const table of BIG_TABLES) {
    aliases.set(table, table);
    for (const match of sql.matchAll(new RegExp(`\\b${table}\\s+(?:AS\\s+)?([a-z_]+)\\b`, 'gi'))) {
      const alias = match[1]!;
      if (!/^(WHERE|JOIN|CROSS|LEFT|ON|ORDER|GROUP|LIMIT|INNER|USING|SET)$/i.test(alias)) aliases.set(alias, table);
    }
  }
  return aliases;
}

describe('the plans of every list query (issue 18.3)', () => {
  let db: Db;
  let sqlite: Database.Database;
  beforeAll(() => {
    db = openDb({ path: ':memory:' });
    sqlite = db.$client;
  });
  afterAll(() => sqlite.close());

  const queries = listQueries();

  it('covers the queue, the applications list, the register, the audit search and the counts', () => {
    const names = queries.map((q) => q.name);
    for (const prefix of ['review queue lane', 'review queue counts', 'applications list', 'applications counts', 'register rows', 'audit search', 'programme counts per state', 'inbox unread', 'outbox failed']) {
      expect(names.some((n) => n.startsWith(prefix)), prefix).toBe(true);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  /** What is wrong with a statement's plan: a big table read whole without an index, or its rows sorted afterwards. */
  function problemsOf(query: ListQuery): { plan: string[]; problems: string[] } {
    const plan = sqlite
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query.sql}`)
      .all(...(Array.isArray(query.params) ? query.params : [query.params]))
      .map((row) => row.detail);
    const aliases = aliasesOf(query.sql);
    const readsBig = plan.some((d) => [...aliases.keys()].some((alias) => new RegExp(`^(SCAN|SEARCH) ${alias}\\b`).test(d)));
    const problems: string[] = [];
    for (const detail of plan) {
      const scanned = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(detail);
      const table = scanned ? aliases.get(scanned[1]!) : undefined;
      // A whole table read without an index, unless the query says why nothing else can serve it.
      if (table && !scanned![2] && !query.fullScan) problems.push(`a full scan of ${table}: ${detail}`);
      if (readsBig && /USE TEMP B-TREE FOR (?:RIGHT PART OF |LAST TERM OF )?ORDER BY/.test(detail)) problems.push(`the rows are sorted in a temporary B-tree: ${detail}`);
    }
    return { plan, problems };
  }

  it('finds a scan and a sort where they are (the check can fail)', () => {
    expect(problemsOf({ name: 'bad', sql: 'SELECT id FROM applications a WHERE a.settlement = ? ORDER BY a.total_kopecks', params: ['x'] }).problems.join()).toMatch(/full scan of applications.*temporary B-tree/);
    expect(problemsOf({ name: 'bad', sql: 'SELECT position FROM events WHERE payload LIKE ?', params: ['%x%'] }).problems.join()).toMatch(/full scan of events/);
    expect(problemsOf({ name: 'good', sql: 'SELECT position FROM events WHERE stream_id = ? ORDER BY seq', params: ['x'] }).problems).toEqual([]);
  });

  it.each(queries.map((q) => [q.name, q] as const))('%s: reads by an index, sorts by it', (_name, query) => {
    const { plan, problems } = problemsOf(query);
    expect(problems, `${query.name}:\n  ${plan.join('\n  ')}`).toEqual([]);
    // A statement allowed to scan says so because it must: it scans indeed (else the allowance is stale).
    if (query.fullScan) expect(plan.some((d) => /^SCAN /.test(d)), plan.join('\n')).toBe(true);
  });
});
