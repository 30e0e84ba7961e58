import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine } from '../../engine/engine.ts';
import { NotAllowedError, NotFoundError } from '../../engine/errors.ts';
import { informingTask, stageMachineId, type InformingFacts, type StageContext } from '../../../machines/stage.ts';
import { stageDefinitions } from '../../../machines/stages.ts';
import { writeNotifications, type OutboxOptions } from '../notifications/outbox.ts';
import type { NotificationPlan } from '../notifications/rules.ts';
import { stageStreamId } from '../stage/reads.ts';

/**
 * Informing the participants (stage 7, issue 12): after the commission's decision one action
 * sends every applicant of the programme the result of each of its municipality's applications
 * (the amount awarded, or why not) with the protocol's link, through the outbox. The stage's task
 * `informing` is then ticked by a stage event whose facts are the delivery record, once nothing
 * is on its way any more.
 */

/** The stage whose checklist holds the informing task. */
export const informingStage = stageDefinitions.find((definition) => definition.tasks.includes(informingTask))!;
export const stageHoldsInforming = (key: string): boolean => key === informingStage.key;

export interface InformingRound {
  programmeId: number;
  sentAt: string;
  sentBy: Actor;
}

const informingStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    round: sqlite.prepare<[number], { sentAt: string; sentBy: string }>('SELECT sent_at AS sentAt, sent_by AS sentBy FROM informing_rounds WHERE programme_id = ?'),
    insertRound: sqlite.prepare('INSERT INTO informing_rounds (programme_id, sent_at, sent_by) VALUES (@programmeId, @sentAt, @sentBy)'),
    decided: sqlite.prepare<[number], { id: number }>('SELECT id FROM commission_decisions WHERE programme_id = ?'),
    /** Each application's decision: the award or its refusal, or an earlier rejection. */
    results: sqlite.prepare<[number], { id: number; municipalityId: number; title: string; type: string; payload: string }>(
      `SELECT a.id, a.municipality_id AS municipalityId, a.title, e.type, e.payload FROM applications a
       JOIN events e ON e.stream_id = a.stream_id AND e.type IN ('award', 'not-award', 'reject')
       WHERE a.programme_id = ? ORDER BY a.id, e.seq`,
    ),
    counts: sqlite.prepare<[number], { mailState: string; n: number }>("SELECT mail_state AS mailState, count(*) AS n FROM notifications WHERE programme_id = ? AND kind = 'result' GROUP BY mail_state"),
    record: sqlite.prepare<
      [number],
      { id: number; userName: string; login: string; applicationId: number; title: string; municipality: string; params: string; createdAt: string; mailState: string; mailTo: string | null; sentAt: string | null; attempts: number; lastError: string | null }
    >(
      `SELECT n.id, u.name AS userName, u.login, n.application_id AS applicationId, a.title, m.name AS municipality, n.params, n.created_at AS createdAt,
              n.mail_state AS mailState, n.mail_to AS mailTo, n.sent_at AS sentAt, n.attempts, n.last_error AS lastError
       FROM notifications n JOIN users u ON u.id = n.user_id JOIN applications a ON a.id = n.application_id JOIN municipalities m ON m.id = a.municipality_id
       WHERE n.programme_id = ? AND n.kind = 'result' ORDER BY m.name, a.id, u.login`,
    ),
    stage: sqlite.prepare<[string], { state: string; version: number; snapshot: string }>('SELECT state, version, snapshot FROM streams WHERE id = ?'),
  };
});

export function informingRound(db: Db, programmeId: number): InformingRound | null {
  const row = informingStatements(db).round.get(programmeId);
  return row ? { programmeId, sentAt: row.sentAt, sentBy: JSON.parse(row.sentBy) as Actor } : null;
}

/** The delivery record in numbers: what the `complete-task` of the informing task carries in its facts. */
export function informingFacts(db: Db, programmeId: number): InformingFacts {
  const counts: Record<string, number> = Object.fromEntries(informingStatements(db).counts.all(programmeId).map((row) => [row.mailState, row.n]));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    total,
    emailed: counts.sent ?? 0,
    failed: counts.failed ?? 0,
    pending: (counts.pending ?? 0) + (counts.sending ?? 0),
    inboxOnly: counts.none ?? 0,
    sentAt: informingRound(db, programmeId)?.sentAt ?? null,
  };
}

/** Who was informed of what, when, and how it went: the stage page's table. */
export function informingRecord(db: Db, programmeId: number) {
  return informingStatements(db)
    .record.all(programmeId)
    .map((row) => ({ ...row, params: JSON.parse(row.params) as Record<string, string | number> }));
}

/** Why the results cannot be sent now: the decision is missing, the stage is not running, or they were sent. */
export function whyNotInform(db: Db, programmeId: number): string | null {
  const s = informingStatements(db);
  const stage = s.stage.get(stageStreamId(programmeId, informingStage.no));
  if (!stage) return 'informing.refused.no-stage';
  if (informingRound(db, programmeId)) return 'informing.refused.sent';
  if (!s.decided.get(programmeId)) return 'informing.refused.no-decision';
  if (stage.state !== 'active') return 'informing.refused.stage-not-active';
  return null;
}

/** The result letters of a programme, one plan per decided application. */
function resultPlans(db: Db, programmeId: number, actor: Actor): NotificationPlan[] {
  const latest = new Map<number, { municipalityId: number; title: string; type: string; payload: Record<string, unknown> }>();
  for (const row of informingStatements(db).results.all(programmeId)) {
    latest.set(row.id, { municipalityId: row.municipalityId, title: row.title, type: row.type, payload: JSON.parse(row.payload) as Record<string, unknown> });
  }
  return [...latest].map(([id, result]) => {
    const outcome = result.type === 'award' ? 'awarded' : result.type === 'not-award' ? 'not-awarded' : 'rejected';
    const params: Record<string, string | number> = { id, title: result.title, outcome };
    for (const key of ['amountKopecks', 'why', 'rank', 'count', 'reason', 'comment'] as const) {
      const value = result.payload[key];
      if (typeof value === 'string' || typeof value === 'number') params[key] = value;
    }
    return { kind: 'result', audience: [{ to: 'applicants', municipalityId: result.municipalityId }], params, link: `/programmes/${programmeId}/protocol`, programmeId, applicationId: id, exclude: [actor.id] };
  });
}

/**
 * Sends the results (coordinators): refused without a decision, outside stage 7 and a second
 * time. Everything in one transaction; when nothing is left to deliver by e-mail (mail off, or
 * nobody has an address) the task is ticked at once from the record.
 */
export function informParticipants(engine: Engine, outbox: OutboxOptions, actor: Actor, programmeId: number): { notifications: number } {
  if (!engine.registry.latest(stageMachineId).eventRoles['complete-task']?.includes(actor.role)) throw new NotAllowedError('only a coordinator sends the results', {}, 'informing.refused.role');
  return engine.transaction(() => {
    if (!engine.db.$client.prepare('SELECT 1 FROM programmes WHERE id = ?').get(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
    const why = whyNotInform(engine.db, programmeId);
    if (why) throw new NotAllowedError(`the results cannot be sent: ${why}`, {}, why);
    const at = engine.now().toISOString();
    informingStatements(engine.db).insertRound.run({ programmeId, sentAt: at, sentBy: JSON.stringify({ id: actor.id, login: actor.login, name: actor.name, role: actor.role, municipalityId: actor.municipalityId }) });
    const plans = resultPlans(engine.db, programmeId, actor);
    const notifications = writeNotifications(engine.db, outbox, plans, at, (plan) => `result:${programmeId}:${plan.applicationId}`);
    completeInformingIfSettled(engine, programmeId);
    return { notifications };
  });
}

/**
 * Ticks the informing task from the delivery record once nothing is on its way: the stage event
 * is written in the name of the coordinator who sent the results. Does nothing before that, or
 * when the task is ticked already; the delivery worker calls it after each result it settles.
 */
export function completeInformingIfSettled(engine: Engine, programmeId: number): boolean {
  return engine.transaction(() => {
    const round = informingRound(engine.db, programmeId);
    if (!round) return false;
    const streamId = stageStreamId(programmeId, informingStage.no);
    const stage = informingStatements(engine.db).stage.get(streamId);
    if (!stage || stage.state !== 'active') return false;
    const context = (JSON.parse(stage.snapshot) as { context: StageContext }).context;
    if (context.tasks.some((task) => task.key === informingTask && task.done)) return false;
    const facts = informingFacts(engine.db, programmeId);
    if (facts.total === 0 || facts.pending > 0) return false;
    engine.apply(streamId, { type: 'complete-task', payload: { task: informingTask } }, stage.version, round.sentBy);
    return true;
  });
}
