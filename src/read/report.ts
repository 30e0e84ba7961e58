import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { fundSources, implementationOf, implementationSummary, type Amounts } from '../domain/implementation.ts';
import { ledgerHeadOf } from '../engine/verify.ts';
import type { ApplicationContext } from '../../machines/application.ts';
import { recommendationsStage, type Recommendations, type StageContext } from '../../machines/stage.ts';

/**
 * The analytical report of a programme (issue 13, stage 12): funds by source planned, agreed,
 * received and spent; the extra-budgetary leverage; the residents' share; beneficiaries and
 * meeting participants; breakdowns by project type, municipality and kind of municipality; the
 * funnel from draft to closing; and the same for the programme before it. Read from the
 * projections the engine keeps with every event (the list row, the scoring input, the stays in
 * states) and from the stored snapshots of the awarded projects; the report names the ledger head
 * it was computed from. Money in kopecks, ratios as numbers; the page words them.
 */
export type SourceFigures = Amounts & { total: number };

export interface GroupFigures {
  key: string;
  /** Submitted applications of the group, and of them the awarded ones. */
  submitted: number;
  awarded: number;
  /** What the submitted applications asked for in all (every source), and the subsidy the commission awarded. */
  plannedTotal: number;
  awardedKopecks: number;
  /** Money received on the awarded projects (every source). */
  received: number;
  beneficiaries: number;
}

export interface Funnel {
  created: number;
  submitted: number;
  accepted: number;
  awarded: number;
  closed: number;
  terminated: number;
  rejected: number;
  notAwarded: number;
  withdrawn: number;
}

export interface ProgrammeFigures {
  programmeId: number;
  title: string;
  year: number;
  fundKopecks: number;
  funnel: Funnel;
  /** The costs of the submitted applications, by source, as their forms give them. */
  planned: SourceFigures;
  /** The same for the awarded projects only. */
  plannedAwarded: SourceFigures;
  /** The subsidy the commission awarded. */
  awardedKopecks: number;
  /** The signed agreements' amounts, the money received (cancelled payments left out) and the spending reports. */
  agreed: SourceFigures;
  received: SourceFigures;
  spent: SourceFigures;
  /** The contracts' savings in all (what the agreements' totals exceed the contract prices by). */
  savings: number;
  agreements: number;
  /** Roubles of each co-financing source, and of all three, per rouble of subsidy: planned (awarded projects) and agreed. */
  leverage: { planned: Leverage | null; agreed: Leverage | null };
  /** The residents' share of the total, in basis points: planned (awarded projects) and agreed. */
  residentsShareBp: { planned: number | null; agreed: number | null };
  /** Beneficiaries and meeting participants of the awarded projects, in all and per million roubles of their total cost. */
  beneficiaries: number;
  meetingParticipants: number;
  beneficiariesPerMillion: number | null;
  participantsPerMillion: number | null;
  byType: GroupFigures[];
  byMunicipality: (GroupFigures & { name: string; kind: string })[];
  byKind: GroupFigures[];
}

export type Leverage = Record<'localBudget' | 'residents' | 'business' | 'all', number>;

export interface ProgrammeReport {
  current: ProgrammeFigures;
  previous: ProgrammeFigures | null;
  /** The ledger the figures were computed from: its length and head. */
  ledger: { events: number; head: string };
  recommendations: Recommendations[];
  /** The closing stage's stream, where the recommendations are recorded, and its version. */
  closingStage: { streamId: string; state: string; version: number } | null;
}

const zero = (): SourceFigures => ({ subsidy: 0, localBudget: 0, residents: 0, business: 0, total: 0 });

function add(into: SourceFigures, amounts: Partial<Amounts>): void {
  for (const source of fundSources) {
    const value = amounts[source] ?? 0;
    into[source] += value;
    into.total += value;
  }
}

function leverageOf(figures: SourceFigures): Leverage | null {
  if (figures.subsidy <= 0) return null;
  const per = (value: number) => value / figures.subsidy;
  return { localBudget: per(figures.localBudget), residents: per(figures.residents), business: per(figures.business), all: per(figures.localBudget + figures.residents + figures.business) };
}

const shareBp = (figures: SourceFigures): number | null => (figures.total > 0 ? Math.round((figures.residents * 10_000) / figures.total) : null);

interface Row {
  id: number;
  state: string;
  projectType: string | null;
  municipalityId: number;
  municipalityName: string;
  municipalityKind: string;
  submitted: number;
  awardedKopecks: number | null;
  subsidy: number | null;
  localBudget: number | null;
  residents: number | null;
  business: number | null;
  beneficiaries: number | null;
  meetingAttendance: number | null;
  accepted: number;
  snapshot: string;
}

const ROWS = `
  SELECT a.id, a.state, a.project_type AS projectType, a.municipality_id AS municipalityId, m.name AS municipalityName, m.kind AS municipalityKind,
    a.first_submitted_at IS NOT NULL AS submitted, a.awarded_kopecks AS awardedKopecks,
    sc.subsidy_kopecks AS subsidy, sc.local_budget_kopecks AS localBudget, sc.residents_kopecks AS residents, sc.business_kopecks AS business,
    sc.beneficiaries, sc.meeting_attendance AS meetingAttendance,
    EXISTS (SELECT 1 FROM application_state_spells sp WHERE sp.application_id = a.id AND sp.state = 'accepted') AS accepted,
    s.snapshot
  FROM applications a
  JOIN municipalities m ON m.id = a.municipality_id
  JOIN streams s ON s.id = a.stream_id
  LEFT JOIN application_scoring sc ON sc.application_id = a.id
  WHERE a.programme_id = ?
  ORDER BY a.id`;

function group<K extends string>(rows: Row[], keyOf: (row: Row) => K, received: Map<number, number>): Map<K, GroupFigures> {
  const groups = new Map<K, GroupFigures>();
  for (const row of rows) {
    if (!row.submitted) continue;
    const key = keyOf(row);
    let figures = groups.get(key);
    if (!figures) groups.set(key, (figures = { key, submitted: 0, awarded: 0, plannedTotal: 0, awardedKopecks: 0, received: 0, beneficiaries: 0 }));
    figures.submitted += 1;
    figures.plannedTotal += (row.subsidy ?? 0) + (row.localBudget ?? 0) + (row.residents ?? 0) + (row.business ?? 0);
    if (row.awardedKopecks !== null) {
      figures.awarded += 1;
      figures.awardedKopecks += row.awardedKopecks;
      figures.received += received.get(row.id) ?? 0;
      figures.beneficiaries += row.beneficiaries ?? 0;
    }
  }
  return groups;
}

const byPlanned = (a: GroupFigures, b: GroupFigures) => b.plannedTotal - a.plannedTotal || (a.key < b.key ? -1 : 1);

export function programmeFigures(db: Db, programmeId: number): ProgrammeFigures | null {
  const programme = statement<[number], { id: number; title: string; year: number; fundKopecks: number }>(db, 'SELECT id, title, year, fund_kopecks AS fundKopecks FROM programmes WHERE id = ?').get(programmeId);
  if (!programme) return null;
  const rows = statement<[number], Row>(db, ROWS).all(programmeId);
  const funnel: Funnel = { created: rows.length, submitted: 0, accepted: 0, awarded: 0, closed: 0, terminated: 0, rejected: 0, notAwarded: 0, withdrawn: 0 };
  const planned = zero();
  const plannedAwarded = zero();
  const agreed = zero();
  const received = zero();
  const spent = zero();
  const receivedByApplication = new Map<number, number>();
  let awardedKopecks = 0;
  let savings = 0;
  let agreements = 0;
  let beneficiaries = 0;
  let meetingParticipants = 0;
  for (const row of rows) {
    const costs = { subsidy: row.subsidy ?? 0, localBudget: row.localBudget ?? 0, residents: row.residents ?? 0, business: row.business ?? 0 };
    if (row.submitted) {
      funnel.submitted += 1;
      add(planned, costs);
    }
    if (row.accepted) funnel.accepted += 1;
    if (row.state === 'closed') funnel.closed += 1;
    if (row.state === 'terminated') funnel.terminated += 1;
    if (row.state === 'rejected') funnel.rejected += 1;
    if (row.state === 'not-awarded') funnel.notAwarded += 1;
    if (row.state === 'withdrawn') funnel.withdrawn += 1;
    if (row.awardedKopecks === null) continue;
    funnel.awarded += 1;
    awardedKopecks += row.awardedKopecks;
    add(plannedAwarded, costs);
    beneficiaries += row.beneficiaries ?? 0;
    meetingParticipants += row.meetingAttendance ?? 0;
    const context = (JSON.parse(row.snapshot) as { context: ApplicationContext }).context;
    const summary = implementationSummary(row.state, implementationOf(context));
    if (summary.agreement?.amounts) {
      agreements += 1;
      add(agreed, summary.agreement.amounts);
    }
    add(received, summary.received.bySource);
    receivedByApplication.set(row.id, summary.received.total);
    if (summary.spending) add(spent, summary.spending.actual);
    if (summary.savings) savings += summary.savings.total;
  }
  const perMillion = (count: number) => (plannedAwarded.total > 0 ? (count * 100_000_000) / plannedAwarded.total : null);
  const municipalities = group(rows, (row) => String(row.municipalityId), receivedByApplication);
  const names = new Map(rows.map((row) => [String(row.municipalityId), { name: row.municipalityName, kind: row.municipalityKind }]));
  return {
    programmeId: programme.id,
    title: programme.title,
    year: programme.year,
    fundKopecks: programme.fundKopecks,
    funnel,
    planned,
    plannedAwarded,
    awardedKopecks,
    agreed,
    received,
    spent,
    savings,
    agreements,
    leverage: { planned: leverageOf(plannedAwarded), agreed: agreements > 0 ? leverageOf(agreed) : null },
    residentsShareBp: { planned: shareBp(plannedAwarded), agreed: agreements > 0 ? shareBp(agreed) : null },
    beneficiaries,
    meetingParticipants,
    beneficiariesPerMillion: perMillion(beneficiaries),
    participantsPerMillion: perMillion(meetingParticipants),
    byType: [...group(rows, (row) => row.projectType ?? '', receivedByApplication).values()].sort(byPlanned),
    byMunicipality: [...municipalities.values()].map((figures) => ({ ...figures, ...names.get(figures.key)! })).sort(byPlanned),
    byKind: [...group(rows, (row) => row.municipalityKind, receivedByApplication).values()].sort(byPlanned),
  };
}

/** The programme held before this one: the latest of an earlier year, or of the same year created before it. */
export function previousProgrammeId(db: Db, programmeId: number): number | null {
  return (
    statement<[number, number], { id: number }>(
      db,
      `SELECT p.id FROM programmes p, (SELECT year FROM programmes WHERE id = ?) c
       WHERE p.year < c.year OR (p.year = c.year AND p.id < ?) ORDER BY p.year DESC, p.id DESC LIMIT 1`,
    ).get(programmeId, programmeId)?.id ?? null
  );
}

export function programmeReport(db: Db, programmeId: number): ProgrammeReport | null {
  // One read transaction: the figures, the recommendations and the head are of the same ledger.
  return db.$client.transaction(() => {
    const current = programmeFigures(db, programmeId);
    if (!current) return null;
    const previousId = previousProgrammeId(db, programmeId);
    const closing = statement<[number, string], { streamId: string; state: string; version: number; snapshot: string }>(
      db,
      'SELECT s.id AS streamId, s.state, s.version, s.snapshot FROM stages st JOIN streams s ON s.id = st.stream_id WHERE st.programme_id = ? AND st.key = ?',
    ).get(programmeId, recommendationsStage);
    const recommendations = closing ? ((JSON.parse(closing.snapshot) as { context: StageContext }).context.recommendations ?? []) : [];
    const { head, events } = ledgerHeadOf(db);
    return {
      current,
      previous: previousId === null ? null : programmeFigures(db, previousId),
      ledger: { events, head },
      recommendations,
      closingStage: closing ? { streamId: closing.streamId, state: closing.state, version: closing.version } : null,
    };
  }).deferred();
}

