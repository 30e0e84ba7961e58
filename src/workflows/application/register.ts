import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { applicationStates } from '../../../machines/application.ts';
import { commissionReads, rankingFor } from '../commission/reads.ts';
import { applicationLabel } from './registration.ts';

/**
 * The register of applications (реестр заявок, issue 13): every application of a programme that
 * was ever submitted, with its number, dates, place, type, state, cost by source, score and award,
 * filtered by municipality and state, sorted by any column, with a totals row. The page, the CSV,
 * the XLSX and `GET /api/programmes/:id/register` all read this one function.
 */

/** The states a submitted application can be in: the register's state filter offers these. */
export const registerStates = applicationStates.filter((state) => state !== 'draft');

export const registerSorts = [
  'number',
  'submitted',
  'municipality',
  'settlement',
  'type',
  'state',
  'subsidy',
  'localBudget',
  'residents',
  'business',
  'total',
  'score',
  'awarded',
  'decided',
  'received',
  'spent',
] as const;
export type RegisterSort = (typeof registerSorts)[number];

const optionalId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().catch(undefined);

/** The register's query string; anything malformed falls back to no filter or the default order, never a 500. */
export const registerQuerySchema = z.object({
  municipalityId: optionalId,
  state: z.enum(applicationStates as [string, ...string[]]).optional().catch(undefined),
  sort: z.enum(registerSorts).default('number').catch('number'),
  dir: z.enum(['asc', 'desc']).default('asc').catch('asc'),
  /** The page of the register's page (1-based); the exports and the API take every row. */
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).catch(1),
});

/** Rows on one page of the register's page: what a screen and a printed sheet take. */
export const REGISTER_PAGE_SIZE = 100;
export type RegisterQuery = z.infer<typeof registerQuerySchema>;

export interface RegisterRow {
  id: number;
  /** The registration number, or the id as text for an application submitted before numbers existed. */
  number: string;
  registrationNo: string | null;
  title: string;
  firstSubmittedAt: string;
  municipalityId: number;
  municipality: string;
  settlement: string | null;
  projectType: string | null;
  state: string;
  subsidyKopecks: number;
  localBudgetKopecks: number;
  residentsKopecks: number;
  businessKopecks: number;
  totalKopecks: number;
  /** The ranking's total points in hundredths, for an application the ranking holds. */
  scoreCenti: number | null;
  awardedKopecks: number | null;
  /** When the application's outcome was decided: the commission's award or not, or the reviewer's rejection. */
  decidedAt: string | null;
  /** After the award (issue 11): what the sources paid in (cancelled payments left out) and what the spending report says was spent. */
  receivedKopecks: number | null;
  spentKopecks: number | null;
}

export interface RegisterTotals {
  count: number;
  subsidyKopecks: number;
  localBudgetKopecks: number;
  residentsKopecks: number;
  businessKopecks: number;
  totalKopecks: number;
  awardedKopecks: number;
  receivedKopecks: number;
  spentKopecks: number;
}

export interface Register {
  rows: RegisterRow[];
  totals: RegisterTotals;
}

/** One page of the register: its rows, the totals of every row under the filters, and where it is. */
export interface RegisterPage extends Register {
  page: number;
  pages: number;
}

const COLUMNS = `a.id, a.registration_no AS registrationNo, a.registration_seq AS registrationSeq, a.title, a.first_submitted_at AS firstSubmittedAt,
       a.municipality_id AS municipalityId, m.name AS municipality, a.settlement, a.project_type AS projectType, a.state,
       COALESCE(s.subsidy_kopecks, a.subsidy_kopecks) AS subsidyKopecks, COALESCE(s.local_budget_kopecks, 0) AS localBudgetKopecks,
       COALESCE(s.residents_kopecks, 0) AS residentsKopecks, COALESCE(s.business_kopecks, 0) AS businessKopecks,
       a.total_kopecks AS totalKopecks, a.awarded_kopecks AS awardedKopecks,
       (SELECT max(e.at) FROM events e WHERE e.stream_id = a.stream_id AND e.type IN ('award', 'not-award', 'reject')) AS decidedAt,
       CASE WHEN a.agreed_kopecks IS NULL THEN NULL ELSE a.received_kopecks END AS receivedKopecks, a.spent_kopecks AS spentKopecks`;
const FROM = `FROM applications a
     JOIN municipalities m ON m.id = a.municipality_id
     LEFT JOIN application_scoring s ON s.application_id = a.id
     WHERE a.programme_id = @programmeId AND a.first_submitted_at IS NOT NULL
       AND (@municipalityId IS NULL OR a.municipality_id = @municipalityId)
       AND (@state IS NULL OR a.state = @state)`;

/** The order of numbering: numbered ones by their number, then the ones submitted before numbers, by id. */
const SEQ_KEY = 'CASE WHEN a.registration_seq IS NULL THEN -1000000000 + a.id ELSE a.registration_seq END';

/** Each sort as SQL, for the orders the database can give (the score is the ranking's, computed). */
const orderColumn: Record<Exclude<RegisterSort, 'score'>, string> = {
  number: SEQ_KEY,
  submitted: 'firstSubmittedAt',
  municipality: 'municipality',
  settlement: 'a.settlement',
  type: 'projectType',
  state: 'a.state',
  subsidy: 'subsidyKopecks',
  localBudget: 'localBudgetKopecks',
  residents: 'residentsKopecks',
  business: 'businessKopecks',
  total: 'totalKopecks',
  awarded: 'awardedKopecks',
  decided: 'decidedAt',
  received: 'receivedKopecks',
  spent: 'spentKopecks',
};

type Filter = { programmeId: number; municipalityId: number | null; state: string | null };
type Row = Omit<RegisterRow, 'number' | 'scoreCenti'> & { registrationSeq: number | null };

/** The register's statements, named for test/int/query-plans (src/read/list-queries.ts): the rows, each page order, the totals. */
export const REGISTER_ROWS_SQL = `SELECT ${COLUMNS} ${FROM}`;
const pageSql = (sort: keyof typeof orderColumn, dir: 'asc' | 'desc') =>
  // The order of numbering along its index (programme, number): NULL numbers — the older ones — first by id, as SEQ_KEY says.
  sort === 'number'
    ? `${REGISTER_ROWS_SQL} ORDER BY a.registration_seq ${dir.toUpperCase()}, a.id ${dir.toUpperCase()} LIMIT @limit OFFSET @offset`
    : `${REGISTER_ROWS_SQL} ORDER BY (${orderColumn[sort]}) IS NULL, ${orderColumn[sort]} ${dir.toUpperCase()}, ${SEQ_KEY} LIMIT @limit OFFSET @offset`;
export const REGISTER_PAGE_SQL = { number: pageSql('number', 'asc'), numberDesc: pageSql('number', 'desc') };

/** The totals of every row under the filters: one aggregate along the programme's index. */
export const REGISTER_TOTALS_SQL = `SELECT count(*) AS count, COALESCE(sum(COALESCE(s.subsidy_kopecks, a.subsidy_kopecks)), 0) AS subsidyKopecks,
       COALESCE(sum(s.local_budget_kopecks), 0) AS localBudgetKopecks, COALESCE(sum(s.residents_kopecks), 0) AS residentsKopecks,
       COALESCE(sum(s.business_kopecks), 0) AS businessKopecks, COALESCE(sum(a.total_kopecks), 0) AS totalKopecks,
       COALESCE(sum(a.awarded_kopecks), 0) AS awardedKopecks,
       COALESCE(sum(CASE WHEN a.agreed_kopecks IS NULL THEN NULL ELSE a.received_kopecks END), 0) AS receivedKopecks,
       COALESCE(sum(a.spent_kopecks), 0) AS spentKopecks
     FROM applications a LEFT JOIN application_scoring s ON s.application_id = a.id
     WHERE a.programme_id = @programmeId AND a.first_submitted_at IS NOT NULL
       AND (@municipalityId IS NULL OR a.municipality_id = @municipalityId)
       AND (@state IS NULL OR a.state = @state)`;

const statements = perDatabase((db: Db) => ({
  rows: db.$client.prepare<Filter, Row>(REGISTER_ROWS_SQL),
  /** The rows in an order the database gives, nulls last whichever the direction, ties in the order of numbering. */
  ordered: new Map(
    (Object.keys(orderColumn) as (keyof typeof orderColumn)[]).flatMap((sort) =>
      (['asc', 'desc'] as const).map((dir) => [
        `${sort}:${dir}`,
        db.$client.prepare<Filter & { limit: number; offset: number }, Row>(pageSql(sort, dir)),
      ]),
    ),
  ),
  totals: db.$client.prepare<Filter, RegisterTotals>(REGISTER_TOTALS_SQL),
  head: db.$client.prepare<[], { position: number }>('SELECT COALESCE(MAX(position), 0) AS position FROM events'),
}));

/**
 * The ranking's total points of a programme's applications, computed once per state of the ledger:
 * the ranking is a function of the log, so the same log position gives the same scores.
 */
const rankingCache = new WeakMap<object, Map<number, { position: number; scores: Map<number, number> }>>();
function scoresOf(db: Db, programmeId: number): Map<number, number> {
  const position = statements(db).head.get()!.position;
  let byProgramme = rankingCache.get(db.$client);
  if (!byProgramme) rankingCache.set(db.$client, (byProgramme = new Map()));
  const kept = byProgramme.get(programmeId);
  if (kept && kept.position === position) return kept.scores;
  const found = rankingFor(commissionReads(db), programmeId);
  const scores = new Map((found?.view.rows ?? []).map((r) => [r.applicationId, r.totalCenti]));
  byProgramme.set(programmeId, { position, scores });
  return scores;
}

type Key = string | number | null;

const collator = new Intl.Collator('ru');

/** Nulls last whichever the direction; ties by number, so that the order is the same every time. */
function compare(a: Key, b: Key): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : collator.compare(String(a), String(b));
}

const filterOf = (programmeId: number, query: RegisterQuery): Filter => ({ programmeId, municipalityId: query.municipalityId ?? null, state: query.state ?? null });

function finish(rows: Row[], scores: Map<number, number>): RegisterRow[] {
  return rows.map(({ registrationSeq: _seq, ...row }) => ({ ...row, number: applicationLabel(row), scoreCenti: scores.get(row.id) ?? null }));
}

/** Every row under the filters in the order asked, sorted by the score in memory (the ranking is computed, not stored). */
function sortedByScore(db: Db, programmeId: number, query: RegisterQuery): RegisterRow[] {
  const scores = scoresOf(db, programmeId);
  const rows = statements(db)
    .rows.all(filterOf(programmeId, query))
    .map((row) => ({ ...row, seqKey: row.registrationSeq === null ? -1_000_000_000 + row.id : row.registrationSeq, scoreCenti: scores.get(row.id) ?? null }));
  const sign = query.dir === 'desc' ? -1 : 1;
  rows.sort((a, b) => {
    const primary = a.scoreCenti === null || b.scoreCenti === null ? compare(a.scoreCenti, b.scoreCenti) : sign * compare(a.scoreCenti, b.scoreCenti);
    return primary !== 0 ? primary : a.seqKey - b.seqKey;
  });
  return finish(rows.map(({ seqKey: _key, scoreCenti: _score, ...row }) => row), scores);
}

/** The whole register under the filters, in the order asked: the CSV, the XLSX and the API. */
export function programmeRegister(db: Db, programmeId: number, query: RegisterQuery): Register {
  return db.$client.transaction(() => {
    const totals = statements(db).totals.get(filterOf(programmeId, query))!;
    if (query.sort === 'score') return { rows: sortedByScore(db, programmeId, query), totals };
    const rows = statements(db).ordered.get(`${query.sort}:${query.dir}`)!.all({ ...filterOf(programmeId, query), limit: -1, offset: 0 });
    return { rows: finish(rows, scoresOf(db, programmeId)), totals };
  }).deferred();
}

/**
 * One page of the register's page (`REGISTER_PAGE_SIZE` rows): the database sorts and pages, the
 * totals are one aggregate over every row under the filters, and the scores come from the
 * ranking kept per ledger position — at 100 000 applications the page reads a hundred rows.
 */
export function registerPage(db: Db, programmeId: number, query: RegisterQuery): RegisterPage {
  return db.$client.transaction(() => {
    const totals = statements(db).totals.get(filterOf(programmeId, query))!;
    const pages = Math.max(1, Math.ceil(totals.count / REGISTER_PAGE_SIZE));
    const page = Math.min(query.page, pages);
    const offset = (page - 1) * REGISTER_PAGE_SIZE;
    const rows =
      query.sort === 'score'
        ? sortedByScore(db, programmeId, query).slice(offset, offset + REGISTER_PAGE_SIZE)
        : finish(statements(db).ordered.get(`${query.sort}:${query.dir}`)!.all({ ...filterOf(programmeId, query), limit: REGISTER_PAGE_SIZE, offset }), scoresOf(db, programmeId));
    return { rows, totals, page, pages };
  }).deferred();
}
