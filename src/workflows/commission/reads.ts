import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { applicationScoring, applications, commissionDecisions, commissionSettings, municipalities, programmes, scores, stages, users } from '../../db/schema.ts';
import { perDatabase } from '../../db/statements.ts';
import {
  commissionSettingsSchema,
  defaultCommissionSettings,
  scoreApplication,
  type CommissionSettings,
  type CriterionKey,
  type ScoringInput,
} from '../../domain/criteria.ts';
import { rankAndAllocate, type Outcome, type SkipReason } from '../../domain/ranking.ts';
import type { DecisionFacts } from './rules.ts';
import { decisionDifferences } from '../../engine/decision-check.ts';

/**
 * What the commission reads (issue 5): the settings, the ranking as it stands — computed from the
 * projections `applications`, `application_scoring` and `scores` by prepared statements, never by
 * parsing snapshots per row (DESIGN §4.8) — and the recorded decision.
 */

export interface MemberScoreView {
  memberId: number;
  memberName: string;
  significanceCenti: number;
  comment: string | null;
  at: string;
}

export interface RankingRow {
  rank: number;
  applicationId: number;
  title: string;
  municipality: string;
  settlement: string | null;
  firstSubmittedAt: string | null;
  criteria: { key: CriterionKey; pointsCenti: number; measure: number | null }[];
  totalCenti: number;
  scores: MemberScoreView[];
  requestedKopecks: number;
  allocatedKopecks: number;
  fundLeftKopecks: number;
  outcome: Outcome;
  why: SkipReason | null;
}

export interface ProgrammeFacts {
  id: number;
  title: string;
  year: number;
  region: string;
  timeZone: string;
  fundKopecks: number;
  capKopecks: number;
  minLocalShareBp: number;
}

export interface RankingView {
  programme: ProgrammeFacts;
  settings: CommissionSettings;
  /** Awarded in this programme outside the ranking (before it): the ranking shares out the rest. */
  alreadyAwardedKopecks: number;
  availableKopecks: number;
  rows: RankingRow[];
  allocatedKopecks: number;
  fundLeftKopecks: number;
}

/** A live row also carries what the decision needs to send its event. */
export interface LiveRankingRow extends RankingRow {
  streamId: string;
  version: number;
}

export interface LiveRankingView extends RankingView {
  rows: LiveRankingRow[];
}

export interface DecisionMember {
  id: number;
  login: string;
  name: string;
}

export interface DecisionView {
  id: number;
  programmeId: number;
  decidedAt: string;
  decidedBy: DecisionMember & { role: string };
  membersPresent: DecisionMember[];
  record: RankingView;
  recordText: string;
  recordHash: string;
  ledgerHead: string;
  ledgerEvents: number;
  /**
   * The columns of the stored record that are not what the ledger sealed (src/engine/decision-check.ts):
   * empty when the record is proven; otherwise the protocol warns that what it prints is not the decision.
   */
  unproven: string[];
}

/** The programme's settings; a programme made before they existed reads the defaults. */
export function readCommissionSettings(db: Db, programmeId: number): CommissionSettings {
  const row = db.select().from(commissionSettings).where(sql`${commissionSettings.programmeId} = ${programmeId}`).get();
  if (!row) return structuredClone(defaultCommissionSettings);
  const parsed = commissionSettingsSchema.safeParse({ criteria: JSON.parse(row.criteria), quorum: row.quorum, partialAward: row.partialAward });
  return parsed.success ? parsed.data : structuredClone(defaultCommissionSettings);
}

export const commissionReads = perDatabase((db: Db) => {
  const programme = db
    .select({
      id: programmes.id,
      title: programmes.title,
      year: programmes.year,
      region: programmes.region,
      timeZone: programmes.timeZone,
      fundKopecks: programmes.fundKopecks,
      capKopecks: programmes.capKopecks,
      minLocalShareBp: programmes.minLocalShareBp,
    })
    .from(programmes)
    .where(sql`${programmes.id} = ${sql.placeholder('programmeId')}`)
    .prepare();
  const accepted = db
    .select({
      id: applications.id,
      streamId: applications.streamId,
      title: applications.title,
      settlement: applications.settlement,
      version: applications.version,
      subsidyKopecks: applications.subsidyKopecks,
      firstSubmittedAt: applications.firstSubmittedAt,
      municipality: municipalities.name,
      projected: applicationScoring.applicationId,
      population: applicationScoring.population,
      beneficiaries: applicationScoring.beneficiaries,
      meetingAttendance: applicationScoring.meetingAttendance,
      localBudgetKopecks: applicationScoring.localBudgetKopecks,
      residentsKopecks: applicationScoring.residentsKopecks,
      businessKopecks: applicationScoring.businessKopecks,
      nonMonetaryKopecks: applicationScoring.nonMonetaryKopecks,
    })
    .from(applications)
    .innerJoin(municipalities, sql`${municipalities.id} = ${applications.municipalityId}`)
    .leftJoin(applicationScoring, sql`${applicationScoring.applicationId} = ${applications.id}`)
    .where(sql`${applications.programmeId} = ${sql.placeholder('programmeId')} AND ${applications.state} = 'accepted'`)
    .orderBy(applications.id)
    .prepare();
  const acceptedScores = db
    .select({
      applicationId: scores.applicationId,
      memberId: scores.memberId,
      memberName: users.name,
      significanceCenti: scores.significanceCenti,
      comment: scores.comment,
      at: scores.at,
    })
    .from(scores)
    .innerJoin(applications, sql`${applications.id} = ${scores.applicationId}`)
    .innerJoin(users, sql`${users.id} = ${scores.memberId}`)
    .where(sql`${applications.programmeId} = ${sql.placeholder('programmeId')} AND ${applications.state} = 'accepted'`)
    .orderBy(scores.applicationId, users.name)
    .prepare();
  const awardedOutside = db
    .select({ sum: sql<number>`COALESCE(SUM(${applications.awardedKopecks}), 0)` })
    .from(applications)
    .where(sql`${applications.programmeId} = ${sql.placeholder('programmeId')} AND ${applications.awardedKopecks} IS NOT NULL`)
    .prepare();
  const members = db.$client.prepare<[], DecisionMember>("SELECT id, login, name FROM users WHERE role = 'commission' AND active = 1 ORDER BY name, id");
  const insertDecision = db.$client.prepare(
    `INSERT INTO commission_decisions (programme_id, decided_at, decided_by, members_present, record, record_hash, ledger_head, ledger_events)
     VALUES (@programmeId, @decidedAt, @decidedBy, @membersPresent, @record, @recordHash, @ledgerHead, @ledgerEvents)`,
  );
  const decision = db
    .select()
    .from(commissionDecisions)
    .where(sql`${commissionDecisions.programmeId} = ${sql.placeholder('programmeId')}`)
    .prepare();
  const commissionStage = db
    .select({ state: stages.state, version: stages.version })
    .from(stages)
    .where(sql`${stages.programmeId} = ${sql.placeholder('programmeId')} AND ${stages.key} = 'commission'`)
    .prepare();

  return {
    programme(programmeId: number): ProgrammeFacts | undefined {
      return programme.get({ programmeId });
    },

    /** The state of stage 7 (`planned` when the programme has no stages). */
    commissionStageState(programmeId: number): string {
      return commissionStage.get({ programmeId })?.state ?? 'planned';
    },

    /** The ranking as it stands: the accepted applications, scored, ranked, and the fund shared out. */
    liveRanking(programmeId: number): LiveRankingView | undefined {
      const facts = programme.get({ programmeId });
      if (!facts) return undefined;
      const settings = readCommissionSettings(db, programmeId);
      const scoreRows = acceptedScores.all({ programmeId });
      const byApplication = new Map<number, MemberScoreView[]>();
      for (const s of scoreRows) {
        const list = byApplication.get(s.applicationId) ?? [];
        list.push({ memberId: s.memberId, memberName: s.memberName, significanceCenti: s.significanceCenti, comment: s.comment, at: s.at });
        byApplication.set(s.applicationId, list);
      }
      const candidates = accepted.all({ programmeId }).map((row) => {
        const memberScores = byApplication.get(row.id) ?? [];
        // Every application has its scoring row: the projection writes it with every event, and migration 0006 filled it for older ones.
        const input: Omit<ScoringInput, 'significancesCenti'> = {
          population: row.population ?? 0,
          beneficiaries: row.beneficiaries ?? 0,
          meetingAttendance: row.meetingAttendance ?? 0,
          subsidyKopecks: row.subsidyKopecks,
          localBudgetKopecks: row.localBudgetKopecks ?? 0,
          residentsKopecks: row.residentsKopecks ?? 0,
          businessKopecks: row.businessKopecks ?? 0,
          nonMonetaryKopecks: row.nonMonetaryKopecks ?? 0,
        };
        const result = scoreApplication(settings.criteria, { ...input, significancesCenti: memberScores.map((s) => s.significanceCenti) }, { minLocalShareBp: facts.minLocalShareBp });
        return {
          id: row.id,
          totalCenti: result.totalCenti,
          firstSubmittedAt: row.firstSubmittedAt,
          requestedKopecks: row.subsidyKopecks,
          row,
          criteria: result.criteria,
          memberScores,
        };
      });
      const alreadyAwardedKopecks = awardedOutside.get({ programmeId })?.sum ?? 0;
      const availableKopecks = Math.max(0, facts.fundKopecks - alreadyAwardedKopecks);
      const allocated = rankAndAllocate(candidates, { fundKopecks: availableKopecks, capKopecks: facts.capKopecks, partialAward: settings.partialAward });
      const rows: LiveRankingRow[] = allocated.map((a) => ({
        rank: a.rank,
        applicationId: a.candidate.id,
        title: a.candidate.row.title,
        municipality: a.candidate.row.municipality,
        settlement: a.candidate.row.settlement,
        firstSubmittedAt: a.candidate.firstSubmittedAt,
        criteria: a.candidate.criteria,
        totalCenti: a.candidate.totalCenti,
        scores: a.candidate.memberScores,
        requestedKopecks: a.candidate.requestedKopecks,
        allocatedKopecks: a.allocatedKopecks,
        fundLeftKopecks: a.fundLeftKopecks,
        outcome: a.outcome,
        why: a.why,
        streamId: a.candidate.row.streamId,
        version: a.candidate.row.version,
      }));
      const allocatedKopecks = rows.reduce((sum, r) => sum + r.allocatedKopecks, 0);
      return { programme: facts, settings, alreadyAwardedKopecks, availableKopecks, rows, allocatedKopecks, fundLeftKopecks: availableKopecks - allocatedKopecks };
    },

    decision(programmeId: number): DecisionView | undefined {
      const row = decision.get({ programmeId });
      if (!row) return undefined;
      const differences = decisionDifferences(db, undefined, programmeId);
      const record = JSON.parse(row.record) as RankingView;
      // An amount the record shows otherwise than its award event: the protocol prints the ledger's (and warns).
      for (const d of differences) {
        const match = /^record\.rows\[application (\d+)\]\.allocatedKopecks$/.exec(d.column);
        const shown = match ? record.rows.find((r) => r.applicationId === Number(match[1])) : undefined;
        if (shown && typeof d.derived === 'number') shown.allocatedKopecks = d.derived;
      }
      return {
        id: row.id,
        programmeId: row.programmeId,
        decidedAt: row.decidedAt,
        decidedBy: JSON.parse(row.decidedBy) as DecisionView['decidedBy'],
        membersPresent: JSON.parse(row.membersPresent) as DecisionMember[],
        record,
        recordText: row.record,
        recordHash: row.recordHash,
        ledgerHead: row.ledgerHead,
        ledgerEvents: row.ledgerEvents,
        unproven: [...new Set(differences.map((d) => d.column))],
      };
    },

    /** The commission members who may be named present, active ones first by name. */
    members(): DecisionMember[] {
      return members.all();
    },

    /** What `whyNotDecide` looks at for this programme now. */
    decisionFacts(programmeId: number, ranking: RankingView): DecisionFacts {
      return {
        decided: decision.get({ programmeId }) !== undefined,
        stageState: commissionStage.get({ programmeId })?.state ?? 'planned',
        rows: ranking.rows.map((row) => ({ applicationId: row.applicationId, scoreCount: row.scores.length })),
        quorum: ranking.settings.quorum,
      };
    },

    /** Writes the decision's record (append-only by trigger); called by `recordDecision` only. */
    insertDecision(record: { programmeId: number; decidedAt: string; decidedBy: string; membersPresent: string; record: string; recordHash: string; ledgerHead: string; ledgerEvents: number }): void {
      insertDecision.run(record);
    },
  };
});

export type CommissionReads = ReturnType<typeof commissionReads>;

/** The decided ranking when there is a decision, the live one otherwise. */
export function rankingFor(reads: CommissionReads, programmeId: number): { view: RankingView; decision: DecisionView | null } | undefined {
  const decision = reads.decision(programmeId);
  if (decision) return { view: decision.record, decision };
  const live = reads.liveRanking(programmeId);
  return live ? { view: live, decision: null } : undefined;
}
