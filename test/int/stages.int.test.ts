import { afterEach, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/accounts/users.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import { events, municipalities, stages, users } from '../../src/db/schema.ts';
import type { ApplicationForm } from '../../src/domain/application.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { demoDb, demoSummary } from '../demo-template.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ConflictError, ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from '../../src/engine/errors.ts';
import { GENESIS_HASH } from '../../src/engine/ledger.ts';
import { loadStreamEvents, replayStream } from '../../src/engine/replay.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { stageMachineId, type StageContext } from '../../machines/stage.ts';
import { stageDefinitions, type StageKey } from '../../machines/stages.ts';
import { completeForm, programmeInput, programmeWithActiveStages, recordStageEvidence, yearPlan } from './fixtures.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { findApplication } from '../../src/workflows/application/reads.ts';
import { createProgramme } from '../../src/workflows/programme/create.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { sendStageEvent } from '../../src/workflows/stage/commands.ts';
import { stageReads, stageStreamId } from '../../src/workflows/stage/reads.ts';
import { installWorkflows } from '../../src/workflows/index.ts';
import { applicationOptions, loadApplication, allowedEventTypes } from '../../src/workflows/application/reads.ts';
import { statusOf } from '../../src/http/plugins/errors.ts';

const registry = defaultRegistry();

const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

function freshDb(): Db {
  const db = openDb({ path: ':memory:' });
  opened.push(db);
  return db;
}

type Who = Role | 'foreignApplicant';

function world() {
  const db = freshDb();
  const createdAt = '2027-01-10T08:00:00.000Z';
  const [home, away] = [
    { name: 'Якшур-Бодьинский район', kind: 'district', population: 21_000 },
    { name: 'город Сарапул', kind: 'city-okrug', population: 94_000 },
  ].map((m) => db.insert(municipalities).values(m).returning().get().id) as [number, number];
  const user = (login: string, name: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = insertUser(db, { login, name, role, municipalityId, passwordHash: 'x', createdAt }, null);
    return { id: row.id, login, name, role, municipalityId };
  };
  const actors: Record<Who, Actor> = {
    applicant: user('applicant1', 'Анна Петрова', 'applicant', home),
    foreignApplicant: user('applicant2', 'Игорь Волков', 'applicant', away),
    reviewer: user('reviewer1', 'Ольга Смирнова', 'reviewer'),
    coordinator: user('coordinator1', 'Сергей Иванов', 'coordinator'),
    commission: user('commission1', 'Елена Кузнецова', 'commission'),
    auditor: user('auditor1', 'Марина Лекомцева', 'auditor'),
    admin: user('admin1', 'Администратор', 'admin'),
  };
  let t = Date.parse('2027-01-15T06:00:00.000Z');
  const engine = new Engine(db, { now: () => new Date((t += 60 * 60_000)) });
  installWorkflows(engine);
  return { db, engine, actors };
}
type World = ReturnType<typeof world>;

/** Every table the write path touches, as SQLite holds it. */
function dump(db: Db) {
  const all = (table: string) => db.$client.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
  return {
    events: all('events'),
    streams: all('streams'),
    stages: all('stages'),
    applications: all('applications'),
    programmes: all('programmes'),
    sequence: db.$client.prepare('SELECT * FROM sqlite_sequence ORDER BY name').all(),
  };
}

/** Runs `work`, expects it to throw `kind`, and every row to be as before. */
function refused<E extends Error>(w: World, kind: abstract new (...args: never[]) => E, work: () => unknown): E {
  const before = dump(w.db);
  let caught: unknown;
  try {
    work();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(kind);
  expect(dump(w.db)).toStrictEqual(before);
  return caught as E;
}

/** A refusal with the reason a coordinator reads, and its params. */
function refusedFor(w: World, reason: string, params: Record<string, string | number>, work: () => unknown): NotAllowedError {
  const error = refused(w, NotAllowedError, work);
  expect(error.reason, error.message).toBe(reason);
  expect(error.params).toEqual(params);
  expect(statusOf(error)).toBe(422);
  return error;
}

const stageRow = (w: World, programmeId: number, no: number) => stageReads(w.db).stageOfStream(stageStreamId(programmeId, no))!;
const stageContext = (w: World, programmeId: number, no: number) =>
  (JSON.parse(w.engine.loadStream(stageStreamId(programmeId, no))!.snapshot) as { context: StageContext }).context;

/** A programme whose listed stages are active, driven there through the engine by the coordinator. */
const staged = (w: World, active: readonly StageKey[]) => programmeWithActiveStages(w.engine, w.actors, active);

/** An application walked through the given events by their usual senders. */
function application(w: World, programmeId: number, form: ApplicationForm, ...steps: [Who, string, unknown?][]) {
  const created = createApplication(w.engine, w.actors.applicant, { programmeId, form });
  const app = { id: created.id, version: created.version };
  for (const [who, type, payload] of steps) app.version = sendApplicationEvent(w.engine, w.actors[who], app.id, type, payload ?? {}, app.version).version;
  return app;
}

function send(w: World, app: { id: number; version: number }, who: Who, type: string, payload: unknown = {}) {
  app.version = sendApplicationEvent(w.engine, w.actors[who], app.id, type, payload, app.version).version;
  return app;
}

describe('createProgramme', () => {
  it('makes the programme and its twelve planned stages: streams, creation events and projection rows', () => {
    const w = world();
    const programme = createProgramme(w.engine, w.actors.admin, programmeInput, yearPlan(2027));
    expect(programme).toMatchObject({ title: programmeInput.title, year: 2027, timeZone: 'Europe/Samara', fundKopecks: 6_000_000_000 });
    // Its moment comes from the engine's clock, like its stages' creation events.
    expect(programme.createdAt).toBe('2027-01-15T07:00:00.000Z');

    const streamRows = w.db.$client.prepare("SELECT * FROM streams WHERE kind = 'stage' ORDER BY id").all() as { id: string; machine_id: string; state: string; version: number }[];
    expect(streamRows.map((s) => s.id).sort()).toEqual(stageDefinitions.map((d) => stageStreamId(programme.id, d.no)).sort());
    expect(streamRows.every((s) => s.machine_id === stageMachineId && s.state === 'planned' && s.version === 1)).toBe(true);

    const rows = stageReads(w.db).stagesOf(programme.id);
    expect(rows.map((r) => [r.no, r.key, r.state, r.version, r.tasksDone, r.tasksTotal, r.startedAt, r.completedAt])).toEqual(
      stageDefinitions.map((d) => [d.no, d.key, 'planned', 1, 0, d.tasks.length, null, null]),
    );
    expect(rows.map((r) => [r.plannedStart, r.plannedEnd])).toEqual(stageDefinitions.map((d) => [yearPlan(2027)[d.no]!.start, yearPlan(2027)[d.no]!.end]));

    const created = w.db.select().from(events).orderBy(events.position).all();
    expect(created).toHaveLength(12);
    for (const [i, event] of created.entries()) {
      const definition = stageDefinitions[i]!;
      expect(event).toMatchObject({ streamId: stageStreamId(programme.id, definition.no), seq: 1, type: 'create', fromState: null, toState: 'planned', machineId: stageMachineId, prevHash: GENESIS_HASH });
      expect(JSON.parse(event.payload)).toMatchObject({ programmeId: programme.id, no: definition.no, key: definition.key, tasks: [...definition.tasks] });
      expect(JSON.parse(event.actor)).toMatchObject({ login: 'admin1', role: 'admin' });
    }
    expect(stageContext(w, programme.id, 6).tasks).toEqual(stageDefinitions[5]!.tasks.map((key) => ({ key, done: false, doneAt: null, doneBy: null })));
    expect(verifyLedger(w.db, registry)).toMatchObject({ ok: true, streams: 12, events: 12, problems: [] });
  });

  it('refuses anyone but an admin, and a programme that is not well-formed, writing nothing', () => {
    const w = world();
    createProgramme(w.engine, w.actors.admin, programmeInput);
    for (const who of ['coordinator', 'reviewer', 'applicant', 'commission', 'auditor'] as const) {
      refused(w, ForbiddenError, () => createProgramme(w.engine, w.actors[who], programmeInput));
    }
    const error = refused(w, ValidationError, () =>
      createProgramme(w.engine, w.actors.admin, { ...programmeInput, year: 1999, fundKopecks: 0, timeZone: 'Mars/Olympus' }),
    );
    expect(error.problems.map((p) => p.field).sort()).toEqual(['fundKopecks', 'timeZone', 'year']);
    refused(w, ValidationError, () => createProgramme(w.engine, w.actors.admin, { ...programmeInput, colour: 'red' }));
  });

  it('is one transaction: a stage that cannot be created takes the programme and the other stages with it', () => {
    const w = world();
    let projected = 0;
    const failing = new Engine(w.db).register({
      machineId: stageMachineId,
      project() {
        projected += 1;
        if (projected === 7) throw new Error('stage 7 failed');
      },
    });
    const error = refused(w, Error, () => createProgramme(failing, w.actors.admin, programmeInput));
    expect(error.message).toBe('stage 7 failed');
    expect(projected).toBe(7);
  });
});

describe('stages start in order', () => {
  it('starting a stage whose predecessor is planned is refused, naming that stage, and writes nothing', () => {
    const w = world();
    const p = createProgramme(w.engine, w.actors.admin, programmeInput, yearPlan(2027)).id;
    refusedFor(w, 'stage.refused.previous-planned', { stage: 'preparation' }, () => sendStageEvent(w.engine, w.actors.coordinator, p, 2, 'start', {}, 1));
    refusedFor(w, 'stage.refused.previous-planned', { stage: 'intake' }, () => sendStageEvent(w.engine, w.actors.coordinator, p, 7, 'start', {}, 1));

    // Stage 1 starts regardless, and then stage 2 may start while stage 1 is still active: stages overlap.
    expect(sendStageEvent(w.engine, w.actors.coordinator, p, 1, 'start', {}, 1).state).toBe('active');
    const started = sendStageEvent(w.engine, w.actors.coordinator, p, 2, 'start', {}, 1);
    expect(started).toMatchObject({ state: 'active', version: 2 });
    expect(JSON.parse(started.event.facts)).toEqual({ previousState: 'active' });
    refusedFor(w, 'stage.refused.previous-planned', { stage: 'preliminary-meetings' }, () => sendStageEvent(w.engine, w.actors.coordinator, p, 4, 'start', {}, 1));
    expect(stageReads(w.db).activeStageKeys(p)).toEqual(['preparation', 'training']);
  });
});

describe('application events are allowed only while a stage that owns them is active', () => {
  it('create is refused while no stage owning it is active, naming the stages, and writes nothing', () => {
    const w = world();
    const fresh = createProgramme(w.engine, w.actors.admin, programmeInput, yearPlan(2027)).id;
    const owners = { event: 'create', stages: 'preliminary-meetings,final-meetings,documentation' };
    refusedFor(w, 'stage.closed', owners, () => createApplication(w.engine, w.actors.applicant, { programmeId: fresh, form: completeForm }));

    // The intake takes submissions, not new applications.
    const { programmeId } = staged(w, ['intake']);
    refusedFor(w, 'stage.closed', owners, () => createApplication(w.engine, w.actors.applicant, { programmeId, form: completeForm }));

    for (const open of ['preliminary-meetings', 'final-meetings', 'documentation'] as const) {
      const { programmeId: id } = staged(w, [open]);
      const created = createApplication(w.engine, w.actors.applicant, { programmeId: id, form: completeForm });
      expect(created.state, open).toBe('draft');
      expect(JSON.parse(created.event.facts)).toEqual({ activeStages: [open] });
    }
  });

  it('submit while neither documentation nor intake is active is refused, naming both, and writes nothing', () => {
    const w = world();
    const programme = staged(w, ['final-meetings']);
    const early = application(w, programme.programmeId, completeForm, ['applicant', 'update', { beneficiaries: 1000 }]);
    const owners = { event: 'submit', stages: 'documentation,intake' };
    refusedFor(w, 'stage.closed', owners, () => sendApplicationEvent(w.engine, w.actors.applicant, early.id, 'submit', {}, early.version));

    // The documentation stage opens: the draft is submitted.
    programme.complete(4);
    programme.send(5, 'start');
    const late = application(w, programme.programmeId, completeForm);
    send(w, early, 'applicant', 'submit');
    expect(w.engine.loadStream(`application-${early.id}`)!.state).toBe('submitted');

    // The documentation stage closes before the intake opens: submissions stop again…
    programme.complete(5);
    refusedFor(w, 'stage.closed', owners, () => sendApplicationEvent(w.engine, w.actors.applicant, late.id, 'submit', {}, late.version));
    // …and resume with the intake.
    programme.send(6, 'start');
    expect(send(w, late, 'applicant', 'submit').version).toBe(2);
    expect(verifyLedger(w.db, registry).problems).toEqual([]);
  });

  it('accept and reject outside the intake are refused, naming it, and write nothing; review goes on in the documentation stage', () => {
    const w = world();
    const programme = staged(w, ['documentation']);
    const app = application(w, programme.programmeId, completeForm, ['applicant', 'submit'], ['reviewer', 'start-review']);
    const intake = { stages: 'intake' };
    refusedFor(w, 'stage.closed', { event: 'accept', ...intake }, () => sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'accept', {}, app.version));
    refusedFor(w, 'stage.closed', { event: 'reject', ...intake }, () =>
      sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'reject', { reason: 'Не по правилам' }, app.version),
    );
    send(w, app, 'reviewer', 'return-for-revision', { remarks: 'Приложите протокол собрания.' });
    send(w, app, 'applicant', 'submit');
    send(w, app, 'reviewer', 'start-review');

    programme.send(6, 'start');
    expect(send(w, app, 'reviewer', 'accept').version).toBe(7);
    // The commission's events wait for the commission stage.
    refusedFor(w, 'stage.closed', { event: 'score', stages: 'commission' }, () =>
      sendApplicationEvent(w.engine, w.actors.commission, app.id, 'score', { significance: 4 }, app.version),
    );
  });

  it('withdraw belongs to no stage: it is taken with every stage closed', () => {
    const w = world();
    const programme = staged(w, ['final-meetings']);
    const app = application(w, programme.programmeId, completeForm);
    programme.complete(4);
    expect(stageReads(w.db).activeStageKeys(programme.programmeId)).toEqual([]);
    refusedFor(w, 'stage.closed', { event: 'update', stages: 'preliminary-meetings,final-meetings,documentation,intake' }, () =>
      sendApplicationEvent(w.engine, w.actors.applicant, app.id, 'update', { title: 'Новое' }, app.version),
    );
    const withdrawn = sendApplicationEvent(w.engine, w.actors.applicant, app.id, 'withdraw', { reason: 'Собрание передумало' }, app.version);
    expect(withdrawn.state).toBe('withdrawn');
    expect(JSON.parse(withdrawn.event.facts)).toEqual({ activeStages: [] });
  });

  it('other refusals keep their own answers while the stage is closed: role, municipality, stale version', () => {
    const w = world();
    const programme = staged(w, ['final-meetings']);
    const app = application(w, programme.programmeId, completeForm);
    refused(w, ForbiddenError, () => sendApplicationEvent(w.engine, w.actors.reviewer, app.id, 'submit', {}, app.version));
    refused(w, NotFoundError, () => sendApplicationEvent(w.engine, w.actors.foreignApplicant, app.id, 'submit', {}, app.version));
    refused(w, ConflictError, () => sendApplicationEvent(w.engine, w.actors.applicant, app.id, 'submit', {}, app.version + 1));
    refused(w, ValidationError, () => sendApplicationEvent(w.engine, w.actors.applicant, app.id, 'update', {}, app.version));
  });

  it('offers an actor only the events a stage open now lets through', () => {
    const w = world();
    const programme = staged(w, ['documentation']);
    const app = application(w, programme.programmeId, completeForm, ['applicant', 'submit'], ['reviewer', 'start-review']);
    const allowed = (who: Who) => allowedEventTypes(applicationOptions(w.engine, w.actors[who], loadApplication(w.engine, w.actors[who], app.id).stream)).sort();
    expect(allowed('reviewer')).toEqual(['return-for-revision']);
    expect(allowed('applicant')).toEqual(['withdraw']);
    programme.send(6, 'start');
    expect(allowed('reviewer')).toEqual(['accept', 'reject', 'return-for-revision']);

    send(w, app, 'reviewer', 'accept');
    expect(allowed('commission')).toEqual([]);
    programme.send(7, 'start');
    // award and not-award are the decision's, sent by recordDecision for the whole ranking, never offered one by one.
    expect(allowed('commission')).toEqual(['score']);
    const score = sendApplicationEvent(w.engine, w.actors.commission, app.id, 'score', { significance: 4 }, app.version);
    expect(score.state).toBe('accepted');
  });

  it('stores the active stages with every application event, so that replay is exact after the stages moved on', () => {
    const w = world();
    const programme = staged(w, ['documentation']);
    const app = application(w, programme.programmeId, completeForm, ['applicant', 'submit'], ['reviewer', 'start-review']);
    programme.send(6, 'start');
    send(w, app, 'reviewer', 'accept');
    programme.complete(5);
    programme.complete(6);
    const rows = loadStreamEvents(w.db, `application-${app.id}`);
    expect(rows.map((r) => [r.type, JSON.parse(r.facts).activeStages])).toEqual([
      ['create', ['documentation']],
      ['submit', ['documentation']],
      ['start-review', ['documentation']],
      ['accept', ['documentation', 'intake']],
    ]);
    // Nothing is active any more, yet every stored event replays to what it did.
    expect(stageReads(w.db).activeStageKeys(programme.programmeId)).toEqual([]);
    const replayed = replayStream(registry, w.engine.loadStream(`application-${app.id}`)!, rows);
    expect(replayed.problems).toEqual([]);
    expect(replayed.steps.at(-1)).toMatchObject({ replayedState: 'accepted', matches: true });
    // The application, its programme's twelve stages, and the announcement and training that let stages 1 and 2 complete.
    expect(verifyLedger(w.db, registry)).toMatchObject({ ok: true, streams: 15, problems: [] });
  });
});

describe('a stage completes only when its checklist is done and its exit condition holds', () => {
  it('complete with tasks open is refused, counting them, and writes nothing', () => {
    const w = world();
    const programme = staged(w, ['documentation', 'intake']);
    refusedFor(w, 'stage.refused.tasks-open', { count: 3 }, () => programme.send(6, 'complete'));
    programme.send(6, 'complete-task', { task: 'checking' });
    programme.send(6, 'complete-task', { task: 'accepting' });
    refusedFor(w, 'stage.refused.tasks-open', { count: 1 }, () => programme.send(6, 'complete'));
  });

  it('intake with an application waiting for a decision is refused with its exit condition, and writes nothing', () => {
    const w = world();
    const programme = staged(w, ['documentation', 'intake']);
    const app = application(w, programme.programmeId, completeForm, ['applicant', 'submit']);
    for (const task of stageDefinitions[5]!.tasks) programme.send(6, 'complete-task', { task });
    const waiting = 'stage.exit.applications-waiting-decision';
    refusedFor(w, waiting, { count: 1 }, () => programme.send(6, 'complete'));
    send(w, app, 'reviewer', 'start-review');
    refusedFor(w, waiting, { count: 1 }, () => programme.send(6, 'complete'));
    // The documentation stage is held back by the same application while it is under review.
    for (const task of stageDefinitions[4]!.tasks) programme.send(5, 'complete-task', { task });
    refusedFor(w, 'stage.exit.applications-under-review', { count: 1 }, () => programme.send(5, 'complete'));

    send(w, app, 'reviewer', 'accept');
    const completed = sendStageEvent(w.engine, w.actors.coordinator, programme.programmeId, 6, 'complete', {}, programme.versions.get(6)!);
    expect(completed.state).toBe('completed');
    // The facts the exit condition looked at are stored with the event.
    expect(JSON.parse(completed.event.facts).exit).toMatchObject({
      applicationCounts: { accepted: 1 },
      stageStates: { documentation: 'active', intake: 'active', commission: 'planned' },
      unscheduledStages: [],
    });
  });

  it('the preparation stage is refused while later stages have no planned dates', () => {
    const w = world();
    const p = createProgramme(w.engine, w.actors.admin, programmeInput, { 1: { start: '2027-01-10', end: '2027-02-28' }, 2: { start: '2027-02-15', end: '2027-03-31' } }).id;
    let version = sendStageEvent(w.engine, w.actors.coordinator, p, 1, 'start', {}, 1).version;
    for (const task of stageDefinitions[0]!.tasks) version = sendStageEvent(w.engine, w.actors.coordinator, p, 1, 'complete-task', { task }, version).version;
    refusedFor(w, 'stage.exit.stages-unscheduled', { count: 10 }, () => sendStageEvent(w.engine, w.actors.coordinator, p, 1, 'complete', {}, version));
  });
});

describe('stage events refused for what they are', () => {
  it('reopen without a reason is a ValidationError, and writes nothing', () => {
    const w = world();
    const programme = staged(w, ['training']);
    expect(stageRow(w, programme.programmeId, 1).state).toBe('completed');
    for (const payload of [{}, { reason: '' }, { reason: '   ' }]) {
      const error = refused(w, ValidationError, () => programme.send(1, 'reopen', payload));
      expect(error.problems.map((p) => p.field)).toEqual(['reason']);
    }
  });

  it('reopen of a planned or active stage, a task that does not exist or is done, ticks on a planned stage', () => {
    const w = world();
    const programme = staged(w, ['training']);
    refused(w, NotAllowedError, () => programme.send(2, 'reopen', { reason: 'Ошибка' }));
    refused(w, NotAllowedError, () => programme.send(3, 'reopen', { reason: 'Ошибка' }));
    refused(w, NotAllowedError, () => programme.send(2, 'complete-task', { task: 'no-such-task' }));
    programme.send(2, 'complete-task', { task: 'local-government' });
    refused(w, NotAllowedError, () => programme.send(2, 'complete-task', { task: 'local-government' }));
    refused(w, NotAllowedError, () => programme.send(2, 'reopen-task', { task: 'initiative-groups' }));
    refused(w, NotAllowedError, () => programme.send(3, 'complete-task', { task: 'consulting' }));
    refused(w, NotAllowedError, () => programme.send(1, 'complete-task', { task: 'plan' }));
    refused(w, NotAllowedError, () => programme.send(2, 'start'));
    refused(w, NotAllowedError, () => programme.send(2, 'frobnicate'));
  });

  it('anyone but the coordinator, a stale version, a stage that does not exist, a bad payload', () => {
    const w = world();
    const programme = staged(w, ['training']);
    const p = programme.programmeId;
    for (const who of ['admin', 'reviewer', 'applicant', 'commission', 'auditor'] as const) {
      for (const [no, type, payload] of [
        [3, 'start', {}],
        [2, 'complete-task', { task: 'local-government' }],
        [1, 'reopen', { reason: 'Ошибка' }],
        [3, 'schedule', { plannedStart: '2027-03-01', plannedEnd: '2027-03-31' }],
      ] as const) {
        refused(w, ForbiddenError, () => sendStageEvent(w.engine, w.actors[who], p, no, type, payload, programme.versions.get(no)!));
      }
    }
    const stale = refused(w, ConflictError, () => sendStageEvent(w.engine, w.actors.coordinator, p, 3, 'start', {}, 2));
    expect(stale.current).toEqual({ state: 'planned', version: 1 });
    refused(w, NotFoundError, () => sendStageEvent(w.engine, w.actors.coordinator, p, 13, 'start', {}, 1));
    refused(w, NotFoundError, () => sendStageEvent(w.engine, w.actors.coordinator, p + 100, 1, 'start', {}, 1));
    refused(w, ValidationError, () => programme.send(3, 'schedule', { plannedStart: '2027-04-01', plannedEnd: '2027-03-01' }));
    refused(w, ValidationError, () => programme.send(3, 'start', { force: true }));
  });
});

describe("a stage's whole life through the engine", () => {
  it('schedule, start, tick the tasks, complete, reopen with a reason, complete again: chained, projected, verified', () => {
    const w = world();
    const p = createProgramme(w.engine, w.actors.admin, programmeInput, yearPlan(2027)).id;
    const stream = stageStreamId(p, 1);
    const c = w.actors.coordinator;
    let version = 1;
    const step = (type: string, payload: unknown = {}) => {
      const applied = sendStageEvent(w.engine, c, p, 1, type, payload, version);
      expect(applied.version).toBe(version + 1);
      version = applied.version;
      // The projection row follows the stream in the same transaction.
      const row = stageRow(w, p, 1);
      const context = stageContext(w, p, 1);
      expect(row).toMatchObject({
        state: applied.state,
        version,
        plannedStart: context.plannedStart,
        plannedEnd: context.plannedEnd,
        startedAt: context.startedAt,
        completedAt: context.completedAt,
        tasksDone: context.tasks.filter((t) => t.done).length,
        tasksTotal: 4,
        updatedAt: applied.event.at,
      });
      return applied;
    };

    step('schedule', { plannedStart: '2027-01-12', plannedEnd: '2027-03-01' });
    expect(stageRow(w, p, 1)).toMatchObject({ state: 'planned', plannedStart: '2027-01-12', plannedEnd: '2027-03-01' });
    const started = step('start');
    expect(stageRow(w, p, 1)).toMatchObject({ state: 'active', startedAt: started.event.at, completedAt: null });
    for (const [i, task] of stageDefinitions[0]!.tasks.entries()) {
      step('complete-task', { task });
      expect(stageRow(w, p, 1).tasksDone).toBe(i + 1);
    }
    // The checklist is ticked, but the journal has no announcement yet (issue 14): refused, nothing written.
    expect(() => step('complete')).toThrow(expect.objectContaining({ reason: 'stage.exit.no-announcement' }));
    expect(stageRow(w, p, 1)).toMatchObject({ state: 'active', version });
    recordStageEvidence(w.engine, c, p, 1);
    const completed = step('complete');
    expect(stageRow(w, p, 1)).toMatchObject({ state: 'completed', completedAt: completed.event.at });
    const reopened = step('reopen', { reason: 'Изменились параметры программы' });
    expect(stageRow(w, p, 1)).toMatchObject({ state: 'active', completedAt: null, startedAt: started.event.at });
    expect(stageContext(w, p, 1).reopenings).toEqual([{ at: reopened.event.at, reason: 'Изменились параметры программы' }]);
    const again = step('complete');
    expect(stageRow(w, p, 1)).toMatchObject({ state: 'completed', completedAt: again.event.at, tasksDone: 4 });

    const rows = loadStreamEvents(w.db, stream);
    expect(rows.map((r) => [r.seq, r.type, r.fromState, r.toState])).toEqual([
      [1, 'create', null, 'planned'],
      [2, 'schedule', 'planned', 'planned'],
      [3, 'start', 'planned', 'active'],
      [4, 'complete-task', 'active', 'active'],
      [5, 'complete-task', 'active', 'active'],
      [6, 'complete-task', 'active', 'active'],
      [7, 'complete-task', 'active', 'active'],
      [8, 'complete', 'active', 'completed'],
      [9, 'reopen', 'completed', 'active'],
      [10, 'complete', 'active', 'completed'],
    ]);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(JSON.parse(rows[2]!.facts)).toEqual({ previousState: null });
    expect(JSON.parse(rows[7]!.facts).exit.programme).toEqual({ fundKopecks: 6_000_000_000, capKopecks: 150_000_000 });
    // The exit's facts carry the journal it read, so that replay judges the same.
    expect(JSON.parse(rows[7]!.facts).exit.journal.byKind).toEqual({ announcement: 1 });

    const replayed = replayStream(registry, w.engine.loadStream(stream)!, rows);
    expect(replayed.problems).toEqual([]);
    expect(replayed.steps.map((s) => s.replayedState)).toEqual(rows.map((r) => r.toState));
    expect(replayed.steps.at(-1)!.context).toEqual(stageContext(w, p, 1));
    const report = verifyLedger(w.db, registry);
    // The twelve stages and the journal's announcement, with its one event.
    expect(report).toMatchObject({ ok: true, streams: 13, events: 12 + 9 + 1, problems: [] });
  });

  it('verify finds a changed stage event like any other', () => {
    const w = world();
    const programme = staged(w, ['training']);
    const stream = stageStreamId(programme.programmeId, 1);
    expect(verifyLedger(w.db, registry).ok).toBe(true);
    w.db.$client.exec('DROP TRIGGER events_no_update;');
    w.db.$client.prepare("UPDATE events SET payload = '{\"task\":\"plan\"}' WHERE stream_id = ? AND seq = 3").run(stream);
    const report = verifyLedger(w.db, registry);
    expect(report.ok).toBe(false);
    expect(report.problems.filter((p) => p.stream === stream && p.seq === 3).map((p) => p.kind)).toContain('hash-mismatch');
    expect(report.problems.filter((p) => p.stream !== stream && p.stream !== '*')).toEqual([]);
  });
});

describe('the demo', () => {
  it('verifies with its stage streams, and its current programme stands as DESIGN §2 says', async () => {
    const now = new Date('2027-05-20T09:00:00.000Z');
    // The demo as seedDemo made it at this clock, once per run (test/demo-template.ts).
    const db = await demoDb({ now: now.toISOString() });
    opened.push(db);
    const summary = await demoSummary(now.toISOString());
    const report = verifyLedger(db, registry);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const entries = (db.$client.prepare("SELECT count(*) AS n FROM journal_entries").get() as { n: number }).n;
    expect(report.streams).toBe(summary.applications + 12 * summary.programmeIds.length + summary.reviewerStreams + entries + summary.conversations);

    const reads = stageReads(db);
    const [past, current] = summary.programmeIds as [number, number];
    const states = reads.stagesOf(current).map((row) => [row.no, row.state]);
    expect(states).toEqual(stageDefinitions.map((d) => [d.no, d.no <= 4 ? 'completed' : d.no <= 6 ? 'active' : 'planned']));
    expect(reads.activeStageKeys(current)).toEqual(['documentation', 'intake']);

    const documentation = reads.stagesOf(current).find((row) => row.no === 5)!;
    expect(documentation.plannedEnd).not.toBeNull();
    expect(documentation.plannedEnd! < now.toISOString().slice(0, 10)).toBe(true);

    // Every stage row agrees with its stream, and every stage of the past year has been started.
    for (const programmeId of [past, current]) {
      for (const row of reads.stagesOf(programmeId)) {
        const stream = db.$client.prepare('SELECT state, version FROM streams WHERE id = ?').get(row.streamId) as { state: string; version: number };
        expect([row.state, row.version], row.streamId).toEqual([stream.state, stream.version]);
        expect(row.plannedStart && row.plannedEnd, row.streamId).toBeTruthy();
      }
    }
    expect(reads.stagesOf(past).every((row) => row.state !== 'planned')).toBe(true);
    expect(db.select().from(stages).all()).toHaveLength(24);
  });
});
