import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { applicationStates, finalApplicationStates } from '../../../machines/application.ts';
import { stageRunning } from '../../../machines/stage.ts';
import { listMunicipalities } from '../../read/applications.ts';
import { applicationLabel } from '../application/registration.ts';
import { reviewerReads } from '../reviewer/reads.ts';
import { isOverdue, localToday } from '../stage/overview.ts';
import { stageReads } from '../stage/reads.ts';
import type { ProgrammeRow } from './reads.ts';

/**
 * The coordinator's dashboard (issue 13): where the programme stands — its running and late
 * stages, its applications by municipality and state, its fund, how long applications wait in
 * each state, what the reviewers hold — in a handful of indexed queries, none per application.
 * The page and `GET /api/programmes/:id/dashboard` read this one function.
 */

/** The states whose subsidy is no longer asked for: never submitted, withdrawn, or refused at intake. */
const notRequesting: ReadonlySet<string> = new Set(['draft', 'withdrawn', 'rejected']);

export interface DashboardStage {
  no: number;
  key: string;
  state: string;
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  running: boolean;
  /** Not completed, and its planned end is behind the programme's today. */
  overdue: boolean;
}

export interface MatrixRow {
  municipalityId: number;
  municipality: string;
  counts: Record<string, number>;
  total: number;
}

export interface WaitingTime {
  state: string;
  /** Stays in the state that have ended: what the median and the 90th percentile are of. */
  finished: number;
  medianMs: number | null;
  p90Ms: number | null;
  /** Applications in the state now, and since when the longest of them has been. */
  now: number;
  longestSince: string | null;
}

export interface WaitingItem {
  applicationId: number;
  label: string;
  title: string;
  state: string;
  waitingSince: string;
}

export interface ReviewerLoad {
  /** The reviewer's id; none for the applications no one is assigned yet. */
  reviewerId: number | null;
  name: string;
  /** Applications in the reviewer's lane: assigned and not yet decided or returned. */
  assigned: number;
  underReview: number;
  oldest: WaitingItem | null;
}

export interface Dashboard {
  programmeId: number;
  /** The programme's date today, which lateness is measured against. */
  today: string;
  stages: DashboardStage[];
  matrix: { states: string[]; rows: MatrixRow[]; totals: Record<string, number>; total: number };
  fund: { fundKopecks: number; requestedKopecks: number; awardedKopecks: number; leftKopecks: number; requestingCount: number; awardedCount: number };
  waiting: WaitingTime[];
  reviewers: ReviewerLoad[];
  idleMunicipalities: { id: number; name: string }[];
}

const dashboardStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    // The counts the triggers of migrations/0015 keep: a row per municipality and state, not per application.
    cells: sqlite.prepare<[number], { municipalityId: number; state: string; count: number; subsidyKopecks: number; awardedKopecks: number; awardedCount: number }>(
      `SELECT municipality_id AS municipalityId, state, count, subsidy_kopecks AS subsidyKopecks, awarded_kopecks AS awardedKopecks, awarded_count AS awardedCount
       FROM application_counts WHERE programme_id = ? AND count > 0`,
    ),
    stayCounts: sqlite.prepare<[number], { state: string; finished: number; running: number }>(
      'SELECT state, finished, running FROM state_spell_counts WHERE programme_id = ? AND (finished > 0 OR running > 0)',
    ),
    hours: sqlite.prepare<[number, string], { hour: number; count: number }>('SELECT hour, count FROM state_spell_hours WHERE programme_id = ? AND state = ? AND count > 0 ORDER BY hour'),
    /** The duration `offset` places on (0-based, shortest first) from the first finished stay in a state of at least `fromMs`. */
    durationFrom: sqlite.prepare<[number, string, number, number], { durationMs: number }>(
      'SELECT duration_ms AS durationMs FROM application_state_spells WHERE programme_id = ? AND state = ? AND left_at IS NOT NULL AND duration_ms >= ? ORDER BY duration_ms LIMIT 1 OFFSET ?',
    ),
    longestRunning: sqlite.prepare<[number, string], { since: string | null }>(
      'SELECT min(entered_at) AS since FROM application_state_spells WHERE programme_id = ? AND state = ? AND left_at IS NULL',
    ),
    laneCount: sqlite.prepare<[number, string], { count: number }>('SELECT count FROM review_queue_counts WHERE programme_id = ? AND lane = ?'),
    underReview: sqlite.prepare<[number, string], { count: number }>(
      'SELECT count(*) AS count FROM review_queue WHERE programme_id = ? AND lane = ? AND state_rank = 2 AND lane IS NOT NULL',
    ),
    oldestInLane: sqlite.prepare<[number, string], { applicationId: number; registrationNo: string | null; title: string; state: string; waitingSince: string }>(
      `SELECT q.application_id AS applicationId, a.registration_no AS registrationNo, q.title, q.state, q.waiting_since AS waitingSince
       FROM (SELECT application_id, title, state, waiting_since FROM review_queue WHERE programme_id = ? AND lane = ? AND lane IS NOT NULL ORDER BY waiting_since, application_id LIMIT 1) q
       LEFT JOIN applications a ON a.id = q.application_id`,
    ),
  };
});

/** The nearest-rank percentile's 0-based index among n values sorted ascending: the ⌈p·n/100⌉-th value. */
export function nearestRankIndex(p: number, n: number): number {
  return Math.max(0, Math.ceil((p / 100) * n) - 1);
}

function stagesOf(db: Db, programme: ProgrammeRow, now: Date): { today: string; stages: DashboardStage[] } {
  const today = localToday(programme.timeZone, now);
  const stages = stageReads(db)
    .stagesOf(programme.id)
    .map((row) => ({
      no: row.no,
      key: row.key,
      state: row.state,
      plannedStart: row.plannedStart,
      plannedEnd: row.plannedEnd,
      startedAt: row.startedAt,
      completedAt: row.completedAt,
      running: stageRunning(row.state),
      overdue: isOverdue(row, today),
    }));
  return { today, stages };
}

function matrixAndFund(db: Db, programme: ProgrammeRow): Pick<Dashboard, 'matrix' | 'fund' | 'idleMunicipalities'> {
  const municipalities = listMunicipalities(db);
  const byMunicipality = new Map<number, MatrixRow>();
  const totals: Record<string, number> = {};
  let total = 0;
  let requestedKopecks = 0;
  let awardedKopecks = 0;
  let requestingCount = 0;
  let awardedCount = 0;
  const names = new Map(municipalities.map((m) => [m.id, m.name]));
  for (const cell of dashboardStatements(db).cells.all(programme.id)) {
    let row = byMunicipality.get(cell.municipalityId);
    if (!row) {
      row = { municipalityId: cell.municipalityId, municipality: names.get(cell.municipalityId) ?? '', counts: {}, total: 0 };
      byMunicipality.set(cell.municipalityId, row);
    }
    row.counts[cell.state] = cell.count;
    row.total += cell.count;
    totals[cell.state] = (totals[cell.state] ?? 0) + cell.count;
    total += cell.count;
    if (!notRequesting.has(cell.state)) {
      requestedKopecks += cell.subsidyKopecks;
      requestingCount += cell.count;
    }
    awardedKopecks += cell.awardedKopecks ?? 0;
    awardedCount += cell.awardedCount;
  }
  const collator = new Intl.Collator('ru');
  return {
    matrix: {
      // The columns: the states some application of the programme is in, in the statechart's order.
      states: applicationStates.filter((state) => (totals[state] ?? 0) > 0),
      rows: [...byMunicipality.values()].sort((a, b) => collator.compare(a.municipality, b.municipality)),
      totals,
      total,
    },
    fund: {
      fundKopecks: programme.fundKopecks,
      requestedKopecks,
      awardedKopecks,
      leftKopecks: programme.fundKopecks - awardedKopecks,
      requestingCount,
      awardedCount,
    },
    idleMunicipalities: municipalities.filter((m) => !byMunicipality.has(m.id)).map((m) => ({ id: m.id, name: m.name })),
  };
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * The finished stays of a state at the given 0-based ranks (shortest first), exactly: the hours'
 * counts say in which hour of duration each rank falls, and the index of durations steps from the
 * start of that hour to it — a short walk, never one over every stay.
 */
function durationsAtRanks(db: Db, programmeId: number, state: string, ranks: readonly number[]): (number | null)[] {
  const statements = dashboardStatements(db);
  const wanted = ranks.map((rank, i) => ({ rank, i })).sort((a, b) => a.rank - b.rank);
  const found: (number | null)[] = ranks.map(() => null);
  let before = 0;
  let next = 0;
  for (const { hour, count } of statements.hours.all(programmeId, state)) {
    while (next < wanted.length && wanted[next]!.rank < before + count) {
      const fromMs = hour < 0 ? Number.MIN_SAFE_INTEGER : hour * HOUR_MS;
      found[wanted[next]!.i] = statements.durationFrom.get(programmeId, state, fromMs, wanted[next]!.rank - before)?.durationMs ?? null;
      next += 1;
    }
    if (next === wanted.length) break;
    before += count;
  }
  return found;
}

/**
 * Median and 90th percentile (nearest rank) of the finished stays in each state that is not
 * final; beside them, the stays still running and since when the longest of them runs.
 */
function waitingTimes(db: Db, programmeId: number): WaitingTime[] {
  const statements = dashboardStatements(db);
  const counts = new Map(statements.stayCounts.all(programmeId).map((row) => [row.state, row]));
  const states = [...new Set([...applicationStates, ...counts.keys()])];
  return states
    .filter((state) => !finalApplicationStates.has(state) && counts.has(state))
    .map((state) => {
      const { finished, running } = counts.get(state)!;
      const [medianMs, p90Ms] = finished === 0 ? [null, null] : durationsAtRanks(db, programmeId, state, [nearestRankIndex(50, finished), nearestRankIndex(90, finished)]);
      const longestSince = running === 0 ? null : (statements.longestRunning.get(programmeId, state)?.since ?? null);
      return { state, finished, medianMs: medianMs ?? null, p90Ms: p90Ms ?? null, now: running, longestSince };
    });
}

function reviewerLoads(db: Db, programmeId: number): ReviewerLoad[] {
  const statements = dashboardStatements(db);
  const load = (reviewerId: number | null, name: string): ReviewerLoad => {
    const lane = `r:${reviewerId ?? 0}`;
    const oldest = statements.oldestInLane.get(programmeId, lane);
    return {
      reviewerId,
      name,
      assigned: statements.laneCount.get(programmeId, lane)?.count ?? 0,
      underReview: statements.underReview.get(programmeId, lane)?.count ?? 0,
      oldest: oldest
        ? { applicationId: oldest.applicationId, label: applicationLabel({ id: oldest.applicationId, registrationNo: oldest.registrationNo }), title: oldest.title, state: oldest.state, waitingSince: oldest.waitingSince }
        : null,
    };
  };
  return [...reviewerReads(db).reviewers().map((reviewer) => load(reviewer.id, reviewer.name)), load(null, '')];
}

export function programmeDashboard(db: Db, programme: ProgrammeRow, now: Date): Dashboard {
  const { today, stages } = stagesOf(db, programme, now);
  return {
    programmeId: programme.id,
    today,
    stages,
    ...matrixAndFund(db, programme),
    waiting: waitingTimes(db, programme.id),
    reviewers: reviewerLoads(db, programme.id),
  };
}
