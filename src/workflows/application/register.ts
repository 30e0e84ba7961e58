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
});
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

/** The register's one statement: the programme's submitted applications by the programme's index (what test/int/query-plans checks). */
export const REGISTER_ROWS_SQL = `SELECT a.id, a.registration_no AS registrationNo, a.registration_seq AS registrationSeq, a.title, a.first_submitted_at AS firstSubmittedAt,
       a.municipality_id AS municipalityId, m.name AS municipality, a.settlement, a.project_type AS projectType, a.state,
       COALESCE(s.subsidy_kopecks, a.subsidy_kopecks) AS subsidyKopecks, COALESCE(s.local_budget_kopecks, 0) AS localBudgetKopecks,
       COALESCE(s.residents_kopecks, 0) AS residentsKopecks, COALESCE(s.business_kopecks, 0) AS businessKopecks,
       a.total_kopecks AS totalKopecks, a.awarded_kopecks AS awardedKopecks,
       (SELECT max(e.at) FROM events e WHERE e.stream_id = a.stream_id AND e.type IN ('award', 'not-award', 'reject')) AS decidedAt,
       CASE WHEN a.agreed_kopecks IS NULL THEN NULL ELSE a.received_kopecks END AS receivedKopecks, a.spent_kopecks AS spentKopecks
     FROM applications a
     JOIN municipalities m ON m.id = a.municipality_id
     LEFT JOIN application_scoring s ON s.application_id = a.id
     WHERE a.programme_id = @programmeId AND a.first_submitted_at IS NOT NULL
       AND (@municipalityId IS NULL OR a.municipality_id = @municipalityId)
       AND (@state IS NULL OR a.state = @state)`;

const statements = perDatabase((db: Db) => ({
  rows: db.$client.prepare<
    { programmeId: number; municipalityId: number | null; state: string | null },
    Omit<RegisterRow, 'number' | 'scoreCenti'> & { registrationSeq: number | null }
  >(REGISTER_ROWS_SQL),
}));

type Key = string | number | null;
const keyOf: Record<RegisterSort, (row: RegisterRow & { seqKey: number }) => Key> = {
  number: (r) => r.seqKey,
  submitted: (r) => r.firstSubmittedAt,
  municipality: (r) => r.municipality,
  settlement: (r) => r.settlement,
  type: (r) => r.projectType,
  state: (r) => r.state,
  subsidy: (r) => r.subsidyKopecks,
  localBudget: (r) => r.localBudgetKopecks,
  residents: (r) => r.residentsKopecks,
  business: (r) => r.businessKopecks,
  total: (r) => r.totalKopecks,
  score: (r) => r.scoreCenti,
  awarded: (r) => r.awardedKopecks,
  decided: (r) => r.decidedAt,
  received: (r) => r.receivedKopecks,
  spent: (r) => r.spentKopecks,
};

const collator = new Intl.Collator('ru');

/** Nulls last whichever the direction; ties by number, so that the order is the same every time. */
function compare(a: Key, b: Key): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : collator.compare(String(a), String(b));
}

export function registerTotals(rows: readonly RegisterRow[]): RegisterTotals {
  const sum = (pick: (r: RegisterRow) => number | null) => rows.reduce((s, r) => s + (pick(r) ?? 0), 0);
  return {
    count: rows.length,
    subsidyKopecks: sum((r) => r.subsidyKopecks),
    localBudgetKopecks: sum((r) => r.localBudgetKopecks),
    residentsKopecks: sum((r) => r.residentsKopecks),
    businessKopecks: sum((r) => r.businessKopecks),
    totalKopecks: sum((r) => r.totalKopecks),
    awardedKopecks: sum((r) => r.awardedKopecks),
    receivedKopecks: sum((r) => r.receivedKopecks),
    spentKopecks: sum((r) => r.spentKopecks),
  };
}

export function programmeRegister(db: Db, programmeId: number, query: RegisterQuery): Register {
  const found = rankingFor(commissionReads(db), programmeId);
  const scores = new Map((found?.view.rows ?? []).map((r) => [r.applicationId, r.totalCenti]));
  // Numbered ones in their order of numbering, then the ones submitted before numbers, by id.
  const rows = statements(db)
    .rows.all({ programmeId, municipalityId: query.municipalityId ?? null, state: query.state ?? null })
    .map(({ registrationSeq, ...row }) => ({
      ...row,
      number: applicationLabel(row),
      scoreCenti: scores.get(row.id) ?? null,
      seqKey: registrationSeq === null ? -1_000_000_000 + row.id : registrationSeq,
    }));
  const key = keyOf[query.sort];
  const sign = query.dir === 'desc' ? -1 : 1;
  rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const primary = ka === null || kb === null ? compare(ka, kb) : sign * compare(ka, kb);
    return primary !== 0 ? primary : a.seqKey - b.seqKey;
  });
  const result: RegisterRow[] = rows.map(({ seqKey: _seqKey, ...row }) => row);
  return { rows: result, totals: registerTotals(result) };
}
