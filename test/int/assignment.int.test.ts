import { afterEach, describe, expect, it } from 'vitest';
import { insertUser as addLoggedUser } from '../../src/accounts/users.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from '../../src/engine/errors.ts';
import { loadStreamEvents, replayStream } from '../../src/engine/replay.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { reviewQueueReads } from '../../src/read/review-queue.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { workflowEngine } from '../../src/workflows/index.ts';
import { declareConflict, reviewerStreamVersion, withdrawConflict } from '../../src/workflows/reviewer/commands.ts';
import { reviewerStreamId } from '../../machines/reviewer.ts';
import { completeForm, programmeWithActiveStages } from './fixtures.ts';

/**
 * Assignment (issue 16): a coordinator assigns, a reviewer takes and releases, each an event of
 * the application; a reviewer's declared conflict of interest — events of their own stream — bars
 * them from the applications of that municipality, and the review queue and its counts follow.
 */
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

function world() {
  const db = openDb({ path: ':memory:', synchronous: 'OFF' });
  opened.push(db);
  // Through insertUser: every user has its entry in the security log, which verify checks.
  const insertUser = { run: (login: string, name: string, role: Role, municipalityId: number | null) => ({ lastInsertRowid: addLoggedUser(db, { login, name, role, municipalityId, passwordHash: 'x', createdAt: '2027-01-01T00:00:00Z' }, null).id }) };
  const municipality = (name: string) => Number(db.$client.prepare("INSERT INTO municipalities (name, kind, population) VALUES (?, 'municipal-okrug', 68000)").run(name).lastInsertRowid);
  const zavyalovo = municipality('Завьяловский район');
  const sarapul = municipality('город Сарапул');
  const actor = (login: string, role: Role, municipalityId: number | null = null): Actor => ({ id: Number(insertUser.run(login, login, role, municipalityId).lastInsertRowid), login, name: login, role, municipalityId });
  const actors = {
    admin: actor('admin1', 'admin'),
    coordinator: actor('coordinator1', 'coordinator'),
    applicant: actor('applicant1', 'applicant', zavyalovo),
    applicant2: actor('applicant2', 'applicant', sarapul),
    reviewer: actor('reviewer1', 'reviewer'),
    reviewer2: actor('reviewer2', 'reviewer'),
  };
  let clock = new Date('2027-04-01T07:00:00Z');
  const engine = workflowEngine(db, { now: () => (clock = new Date(clock.getTime() + 60_000)) });
  const programme = programmeWithActiveStages(engine, actors, ['documentation', 'intake']);
  const submitted = (applicant: Actor = actors.applicant) => {
    const created = createApplication(engine, applicant, { programmeId: programme.programmeId, form: completeForm });
    return { id: created.id, version: sendApplicationEvent(engine, applicant, created.id, 'submit', {}, created.version).version };
  };
  const recount = () =>
    db.$client.prepare('SELECT programme_id AS programmeId, lane, count(*) AS count FROM review_queue WHERE lane IS NOT NULL GROUP BY programme_id, lane ORDER BY lane').all();
  const counted = () => db.$client.prepare('SELECT programme_id AS programmeId, lane, count FROM review_queue_counts WHERE count > 0 ORDER BY lane').all();
  return { db, engine, actors, programme, submitted, zavyalovo, sarapul, recount, counted };
}

const refusalOf = (send: () => unknown): { reason?: string; fields?: string[] } => {
  try {
    send();
  } catch (error) {
    if (error instanceof NotAllowedError) return { reason: error.reason };
    if (error instanceof ValidationError) return { fields: error.problems.map((p) => `${p.field}:${p.code}`) };
    throw error;
  }
  throw new Error('the event was not refused');
};

describe('assigning applications to reviewers', () => {
  it('a coordinator assigns, another reviewer is refused, the assignee releases and another takes', () => {
    const w = world();
    const app = w.submitted();
    const assigned = sendApplicationEvent(w.engine, w.actors.coordinator, app.id, 'assign', { reviewerId: w.actors.reviewer.id }, app.version);
    expect(assigned.snapshot.context.assigneeId).toBe(w.actors.reviewer.id);
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer2, app.id, 'start-review', {}, assigned.version))).toEqual({ reason: 'assignment.refused.assignedToAnother' });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer2, app.id, 'take', {}, assigned.version))).toEqual({ reason: 'assignment.refused.assignedToAnother' });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer2, app.id, 'release', {}, assigned.version))).toEqual({ reason: 'assignment.refused.notYours' });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'take', {}, assigned.version))).toEqual({ reason: 'assignment.refused.alreadyYours' });
    const released = sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'release', {}, assigned.version);
    expect(released.snapshot.context.assigneeId).toBeNull();
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'release', {}, released.version))).toEqual({ reason: 'assignment.refused.nobody' });
    const taken = sendApplicationEvent(w.engine, w.actors.reviewer2, app.id, 'take', {}, released.version);
    expect(taken.snapshot.context.assigneeId).toBe(w.actors.reviewer2.id);
    // The coordinator may give it on to someone else, not to whoever has it, and only to an active reviewer.
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.coordinator, app.id, 'assign', { reviewerId: w.actors.reviewer2.id }, taken.version))).toEqual({ fields: ['reviewerId:assignee-same'] });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.coordinator, app.id, 'assign', { reviewerId: w.actors.applicant.id }, taken.version))).toEqual({ fields: ['reviewerId:assignee-not-reviewer'] });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.coordinator, app.id, 'assign', { reviewerId: 99_999 }, taken.version))).toEqual({ fields: ['reviewerId:assignee-not-reviewer'] });
    w.db.$client.prepare('UPDATE users SET active = 0 WHERE id = ?').run(w.actors.reviewer.id);
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.coordinator, app.id, 'assign', { reviewerId: w.actors.reviewer.id }, taken.version))).toEqual({ fields: ['reviewerId:assignee-not-reviewer'] });
    expect(w.engine.loadStream(applicationStreamId(app.id))!.version).toBe(taken.version);
  });

  it('starting the review of an unassigned application takes it; the assignment stays through the return and the resubmission', () => {
    const w = world();
    const app = w.submitted();
    let version = sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'start-review', {}, app.version).version;
    version = sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'return-for-revision', { remarks: 'Приложите протокол.' }, version).version;
    expect(w.db.$client.prepare('SELECT lane FROM review_queue WHERE application_id = ?').get(app.id)).toEqual({ lane: 'a' });
    const resubmitted = sendApplicationEvent(w.engine, w.actors.applicant, app.id, 'submit', {}, version);
    expect(resubmitted.snapshot.context.assigneeId).toBe(w.actors.reviewer.id);
    expect(w.db.$client.prepare('SELECT lane FROM review_queue WHERE application_id = ?').get(app.id)).toEqual({ lane: `r:${w.actors.reviewer.id}` });
  });

  it('a declared conflict of interest bars the reviewer from taking, being given and reviewing that municipality’s applications, until withdrawn', () => {
    const w = world();
    const own = w.submitted(w.actors.applicant);
    const other = w.submitted(w.actors.applicant2);
    const declared = declareConflict(w.engine, w.actors.reviewer, { municipalityId: w.zavyalovo, reason: 'Супруга работает в администрации района.' }, 0);
    expect(declared.version).toBe(2);
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer, own.id, 'take', {}, own.version))).toEqual({ reason: 'assignment.refused.conflict' });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.reviewer, own.id, 'start-review', {}, own.version))).toEqual({ reason: 'assignment.refused.conflict' });
    expect(refusalOf(() => sendApplicationEvent(w.engine, w.actors.coordinator, own.id, 'assign', { reviewerId: w.actors.reviewer.id }, own.version))).toEqual({ fields: ['reviewerId:assignee-conflict'] });
    // The other municipality's application is not touched by it.
    expect(sendApplicationEvent(w.engine, w.actors.reviewer, other.id, 'take', {}, other.version).snapshot.context.assigneeId).toBe(w.actors.reviewer.id);
    // The refused events' facts: who declared a conflict, as it stood, stored with each event that passed.
    const taken = sendApplicationEvent(w.engine, w.actors.reviewer2, own.id, 'take', {}, own.version);
    expect(JSON.parse(taken.event.facts).conflictedReviewers).toEqual([w.actors.reviewer.id]);

    // A second declaration of the same municipality is refused beside the field; withdrawing lifts the bar.
    expect(refusalOf(() => declareConflict(w.engine, w.actors.reviewer, { municipalityId: w.zavyalovo, reason: 'Ещё раз.' }, declared.version))).toEqual({ fields: ['municipalityId:conflict-declared'] });
    expect(refusalOf(() => declareConflict(w.engine, w.actors.reviewer, { municipalityId: 99_999, reason: 'Нет такого.' }, declared.version))).toEqual({ fields: ['municipalityId:unknown'] });
    withdrawConflict(w.engine, w.actors.reviewer, w.zavyalovo, declared.version);
    expect(w.db.$client.prepare('SELECT count(*) AS n FROM reviewer_conflicts').get()).toEqual({ n: 0 });
    const released = sendApplicationEvent(w.engine, w.actors.reviewer2, own.id, 'release', {}, taken.version);
    expect(sendApplicationEvent(w.engine, w.actors.reviewer, own.id, 'take', {}, released.version).snapshot.context.assigneeId).toBe(w.actors.reviewer.id);

    // A reviewer's stream is theirs: to another reviewer it does not exist; the coordinator sees it and still may not declare in it.
    const declare = (actor: Actor) => () =>
      w.engine.apply(reviewerStreamId(w.actors.reviewer.id), { type: 'declare-conflict', payload: { municipalityId: w.sarapul, reason: 'x' } }, reviewerStreamVersion(w.engine, w.actors.reviewer.id), actor);
    expect(declare(w.actors.reviewer2)).toThrow(NotFoundError);
    expect(declare(w.actors.coordinator)).toThrow(ForbiddenError);
    const stream = w.engine.loadStream(reviewerStreamId(w.actors.reviewer.id))!;
    expect(replayStream(w.engine.registry, stream, loadStreamEvents(w.db, stream.id)).problems).toEqual([]);
    expect(verifyLedger(w.db, w.engine.registry).problems).toEqual([]);
  });

  it('keeps the queue’s lanes and their counts in step with every event, as a recount finds them', () => {
    const w = world();
    const apps = [w.submitted(), w.submitted(), w.submitted(w.actors.applicant2), w.submitted()];
    const queue = reviewQueueReads(w.db);
    expect(queue.counts(w.programme.programmeId, w.actors.reviewer.id)).toEqual({ mine: 0, unassigned: 4, applicant: 0, all: 4 });
    let v0 = sendApplicationEvent(w.engine, w.actors.coordinator, apps[0]!.id, 'assign', { reviewerId: w.actors.reviewer.id }, apps[0]!.version).version;
    sendApplicationEvent(w.engine, w.actors.reviewer2, apps[1]!.id, 'take', {}, apps[1]!.version);
    const started = sendApplicationEvent(w.engine, w.actors.reviewer, apps[2]!.id, 'start-review', {}, apps[2]!.version).version;
    sendApplicationEvent(w.engine, w.actors.reviewer, apps[2]!.id, 'return-for-revision', { remarks: 'Исправьте смету.' }, started);
    expect(queue.counts(w.programme.programmeId, w.actors.reviewer.id)).toEqual({ mine: 1, unassigned: 1, applicant: 1, all: 4 });
    expect(queue.counts(w.programme.programmeId, w.actors.reviewer2.id)).toMatchObject({ mine: 1 });
    v0 = sendApplicationEvent(w.engine, w.actors.reviewer, apps[0]!.id, 'start-review', {}, v0).version;
    sendApplicationEvent(w.engine, w.actors.reviewer, apps[0]!.id, 'reject', { reason: 'Не относится к вопросам местного значения.' }, v0);
    expect(queue.counts(w.programme.programmeId, w.actors.reviewer.id)).toEqual({ mine: 0, unassigned: 1, applicant: 1, all: 3 });
    expect(w.counted()).toEqual(w.recount());
    // The tabs list what they count.
    const listed = (tab: 'mine' | 'unassigned' | 'applicant' | 'all', reviewer: Actor) => queue.page(w.programme.programmeId, tab, reviewer.id, { sort: 'waiting', dir: 'asc' }).rows.map((row) => row.id);
    expect(listed('mine', w.actors.reviewer2)).toEqual([apps[1]!.id]);
    expect(listed('unassigned', w.actors.reviewer)).toEqual([apps[3]!.id]);
    expect(listed('applicant', w.actors.reviewer)).toEqual([apps[2]!.id]);
    expect(listed('all', w.actors.reviewer).sort()).toEqual([apps[1]!.id, apps[2]!.id, apps[3]!.id].sort());
  });
});
