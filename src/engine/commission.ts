import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../db/client.ts';
import { applicationScoring, applications, commissionDecisions, commissionSettings, scores } from '../db/schema.ts';
import { commissionSettingsSchema, defaultCommissionSettings, significanceCenti, type CommissionSettings } from '../domain/criteria.ts';
import type { Actor } from '../domain/roles.ts';
import type { ApplicationContext } from '../../machines/application.ts';
import type { Engine, EventRow, StreamRow } from './engine.ts';
import { zodProblems } from './engine.ts';
import { ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from './errors.ts';
import { canonicalJson, foldHead, GENESIS_HASH, sha256 } from './ledger.ts';
import { translator } from '../i18n/index.ts';
import { commissionReads, type DecisionMember, type DecisionView, type RankingView } from '../read/commission.ts';

/**
 * The commission's side of the write path (issue 5): the projections its ranking reads, the
 * programme's criteria, and the decision — every accepted application awarded or not in one
 * transaction, with the ranking and the ledger head recorded for the protocol.
 */

/** The log is kept in the programme's language: the comments the decision writes into it are Russian. */
const protocolText = translator('ru');

/** Keeps `application_scoring` and `scores` in step with an application; called by the application hook, in its transaction. */
export function commissionProjection(db: Db) {
  const insertInput = db
    .insert(applicationScoring)
    .values({
      applicationId: sql.placeholder('applicationId'),
      population: sql.placeholder('population'),
      beneficiaries: sql.placeholder('beneficiaries'),
      meetingAttendance: sql.placeholder('meetingAttendance'),
      subsidyKopecks: sql.placeholder('subsidyKopecks'),
      localBudgetKopecks: sql.placeholder('localBudgetKopecks'),
      residentsKopecks: sql.placeholder('residentsKopecks'),
      businessKopecks: sql.placeholder('businessKopecks'),
      nonMonetaryKopecks: sql.placeholder('nonMonetaryKopecks'),
    })
    .onConflictDoNothing()
    .prepare();
  const updateInput = db
    .update(applicationScoring)
    .set({
      population: sql`${sql.placeholder('population')}`,
      beneficiaries: sql`${sql.placeholder('beneficiaries')}`,
      meetingAttendance: sql`${sql.placeholder('meetingAttendance')}`,
      subsidyKopecks: sql`${sql.placeholder('subsidyKopecks')}`,
      localBudgetKopecks: sql`${sql.placeholder('localBudgetKopecks')}`,
      residentsKopecks: sql`${sql.placeholder('residentsKopecks')}`,
      businessKopecks: sql`${sql.placeholder('businessKopecks')}`,
      nonMonetaryKopecks: sql`${sql.placeholder('nonMonetaryKopecks')}`,
    })
    .where(sql`${applicationScoring.applicationId} = ${sql.placeholder('applicationId')}`)
    .prepare();
  const applicationOf = db
    .select({ id: applications.id })
    .from(applications)
    .where(sql`${applications.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();
  const clearScores = db.delete(scores).where(sql`${scores.applicationId} = ${sql.placeholder('applicationId')}`).prepare();
  const upsertScore = db
    .insert(scores)
    .values({
      applicationId: sql.placeholder('applicationId'),
      memberId: sql.placeholder('memberId'),
      significanceCenti: sql.placeholder('significanceCenti'),
      comment: sql.placeholder('comment'),
      at: sql.placeholder('at'),
    })
    .onConflictDoUpdate({
      target: [scores.applicationId, scores.memberId],
      set: { significanceCenti: sql`excluded.significance_centi`, comment: sql`excluded.comment`, at: sql`excluded.at` },
    })
    .prepare();

  return (stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) => {
    const applicationId = applicationOf.get({ streamId: stream.id })?.id;
    if (applicationId === undefined) return;
    const context = snapshot.context as ApplicationContext;
    const form = context.form;
    const input = {
      applicationId,
      population: form.population ?? 0,
      beneficiaries: form.beneficiaries ?? 0,
      meetingAttendance: form.meetingAttendance ?? 0,
      subsidyKopecks: form.costs?.subsidy ?? 0,
      localBudgetKopecks: form.costs?.localBudget ?? 0,
      residentsKopecks: form.costs?.residents ?? 0,
      businessKopecks: form.costs?.business ?? 0,
      nonMonetaryKopecks: (form.nonMonetary?.labour ?? 0) + (form.nonMonetary?.materials ?? 0),
    };
    const inserted = insertInput.run(input).changes === 1;
    if (!inserted && event.type === 'update') updateInput.run(input);
    // A new row may belong to an application scored before the projection existed: take all its scores then.
    if (inserted && Object.keys(context.scores).length > 0) {
      clearScores.run({ applicationId });
      for (const [memberId, s] of Object.entries(context.scores)) {
        upsertScore.run({ applicationId, memberId: Number(memberId), significanceCenti: significanceCenti(s.significance), comment: s.comment ?? null, at: s.at });
      }
    } else if (event.type === 'score') {
      const memberId = (JSON.parse(event.actor) as Actor).id;
      const s = context.scores[String(memberId)];
      if (s) upsertScore.run({ applicationId, memberId, significanceCenti: significanceCenti(s.significance), comment: s.comment ?? null, at: s.at });
    }
  };
}

/** Stores the default criteria with a new programme, so that a later change of the defaults does not reach it. */
export function installDefaultCommissionSettings(db: Db, programmeId: number, at: string): void {
  db.insert(commissionSettings)
    .values({
      programmeId,
      criteria: canonicalJson(defaultCommissionSettings.criteria),
      quorum: defaultCommissionSettings.quorum,
      partialAward: defaultCommissionSettings.partialAward,
      updatedAt: at,
      updatedBy: null,
    })
    .onConflictDoNothing()
    .run();
}

/** The criteria, weights, quorum and partial option may change only while stage 7 is still planned. Admins only. */
export function saveCommissionSettings(engine: Engine, actor: Actor, programmeId: number, input: unknown): CommissionSettings {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin sets the criteria');
  const parsed = commissionSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the criteria are invalid', zodProblems(parsed.error));
  const reads = commissionReads(engine.db);
  return engine.transaction(() => {
    if (!reads.programme(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
    const stage = reads.commissionStageState(programmeId);
    if (stage !== 'planned') {
      throw new NotAllowedError('the criteria are fixed once the commission stage has started', { stage: 'commission' }, 'commission.refused.settings-fixed');
    }
    const at = engine.now().toISOString();
    const values = {
      criteria: canonicalJson(parsed.data.criteria),
      quorum: parsed.data.quorum,
      partialAward: parsed.data.partialAward,
      updatedAt: at,
      updatedBy: canonicalJson({ id: actor.id, login: actor.login, name: actor.name }),
    };
    engine.db
      .insert(commissionSettings)
      .values({ programmeId, ...values })
      .onConflictDoUpdate({ target: commissionSettings.programmeId, set: values })
      .run();
    return parsed.data;
  });
}

export const decisionInputSchema = z.strictObject({
  /** The ids of the commission members present at the meeting. */
  membersPresent: z.array(z.number().int().positive()).min(1).max(100),
});
export type DecisionInput = z.infer<typeof decisionInputSchema>;

/** The ledger head over the first events of the log, in global order: the whole log when `limit` is omitted. */
export function ledgerHeadOf(db: Db, limit?: number): { head: string; events: number } {
  const statement = db.$client.prepare<[number], { hash: string }>('SELECT hash FROM events ORDER BY position LIMIT ?');
  let head = GENESIS_HASH;
  let events = 0;
  for (const row of statement.iterate(limit ?? -1)) {
    head = foldHead(head, row.hash);
    events += 1;
  }
  return { head, events };
}

/**
 * Records the commission's decision: `award` with the allocated amount, or `not-award`, to every
 * accepted application in one transaction — all of them or none. Refused while stage 7 is not
 * active, when any accepted application has fewer member scores than the quorum, when there is
 * nothing to decide, and a second time.
 */
export function recordDecision(engine: Engine, actor: Actor, programmeId: number, input: unknown): DecisionView {
  if (actor.role !== 'commission') throw new ForbiddenError('only the commission records its decision');
  const parsed = decisionInputSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the decision is invalid', zodProblems(parsed.error));
  const reads = commissionReads(engine.db);
  engine.transaction(() => {
    if (!reads.programme(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
    if (reads.decision(programmeId)) throw new NotAllowedError('the commission has already decided', {}, 'commission.refused.decided');
    if (reads.commissionStageState(programmeId) !== 'active') {
      throw new NotAllowedError('the decision is taken only while the commission stage is active', { stage: 'commission' }, 'commission.refused.stage');
    }
    const ranking = reads.liveRanking(programmeId)!;
    if (ranking.rows.length === 0) throw new NotAllowedError('no accepted application waits for a decision', {}, 'commission.refused.nothing');
    const short = ranking.rows.filter((row) => row.scores.length < ranking.settings.quorum);
    if (short.length > 0) {
      throw new NotAllowedError(
        `${short.length} application(s) have fewer than ${ranking.settings.quorum} member scores: ${short.map((r) => r.applicationId).join(', ')}`,
        { count: short.length, quorum: ranking.settings.quorum, ids: short.map((r) => `№${r.applicationId}`).join(', ') },
        'commission.refused.quorum',
      );
    }
    const members = new Map(reads.members().map((m) => [m.id, m]));
    const present: DecisionMember[] = [];
    for (const id of new Set(parsed.data.membersPresent)) {
      const member = members.get(id);
      if (!member) throw new ValidationError('not a commission member', [{ field: 'membersPresent', code: 'unknown-member', params: { id } }]);
      present.push(member);
    }
    for (const row of ranking.rows) {
      const event =
        row.allocatedKopecks > 0
          ? { type: 'award', payload: { amountKopecks: row.allocatedKopecks } }
          : { type: 'not-award', payload: { comment: protocolText(`commission.notAward.${row.why ?? 'over-remainder'}`, { rank: row.rank, count: ranking.rows.length }) } };
      engine.apply(row.streamId, event, row.version, actor);
    }
    const ledger = ledgerHeadOf(engine.db);
    const { rows, ...rest } = ranking;
    const record: RankingView = { ...rest, rows: rows.map(({ streamId: _s, version: _v, ...shown }) => shown) };
    const recordText = canonicalJson(record);
    engine.db
      .insert(commissionDecisions)
      .values({
        programmeId,
        decidedAt: engine.now().toISOString(),
        decidedBy: canonicalJson({ id: actor.id, login: actor.login, name: actor.name, role: actor.role }),
        membersPresent: canonicalJson(present),
        record: recordText,
        recordHash: sha256(recordText),
        ledgerHead: ledger.head,
        ledgerEvents: ledger.events,
      })
      .run();
  });
  return reads.decision(programmeId)!;
}
