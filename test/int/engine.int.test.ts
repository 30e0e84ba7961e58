import { spawn } from 'node:child_process';
import { insertUser } from '../../src/accounts/users.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gt, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/db/client.ts';
import { events, municipalities, programmes, streams, users } from '../../src/db/schema.ts';
import { submitProblems, type ApplicationForm } from '../../src/domain/application.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ConflictError, ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from '../../src/engine/errors.ts';
import { GENESIS_HASH, hashEvent } from '../../src/engine/ledger.ts';
import { applicationMachineId } from '../../machines/application.ts';
import { completeForm, programmeWithActiveStages } from './fixtures.ts';
import { applicationStreamId, findApplication } from '../../src/workflows/application/reads.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { stageReads } from '../../src/workflows/stage/reads.ts';
import { installWorkflows } from '../../src/workflows/index.ts';
import { applicationOptions, loadApplication, allowedEventTypes } from '../../src/workflows/application/reads.ts';
import { statusOf } from '../../src/http/plugins/errors.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface World {
  db: Db;
  engine: Engine;
  programmeId: number;
  /** The events the setup wrote (the programme's stages); the tests' own events follow them. */
  setupEvents: number;
  actors: Record<Exclude<Role, 'applicant'>, Actor> & { applicant: Actor; foreignApplicant: Actor; commission2: Actor };
}

const opened: Db[] = [];
const tempDirs: string[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'isu-ib-engine-'));
  tempDirs.push(dir);
  return join(dir, 'test.sqlite');
}

function clock(start = '2027-04-01T06:00:00.000Z'): () => Date {
  let t = Date.parse(start);
  return () => new Date((t += 60_000));
}

function open(path: string): Db {
  const db = openDb({ path, synchronous: 'NORMAL' });
  opened.push(db);
  return db;
}

/** The stages active in the tests' programme: together they own every event these tests send. */
const activeStages = ['documentation', 'intake', 'commission'] as const;

/**
 * A database with one programme (created through the engine, its documentation, intake and
 * commission stages active), two municipalities and one user per role (two applicants).
 */
function world(path = ':memory:'): World {
  const db = open(path);
  const createdAt = '2027-01-10T08:00:00.000Z';
  const [home, away] = [
    { name: 'Якшур-Бодьинский район', kind: 'district', population: 21_000 },
    { name: 'город Сарапул', kind: 'city-okrug', population: 94_000 },
  ].map((m) => db.insert(municipalities).values(m).returning().get().id) as [number, number];
  const user = (login: string, name: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = insertUser(db, { login, name, role, municipalityId, passwordHash: 'not-a-hash', createdAt }, null);
    return { id: row.id, login, name, role, municipalityId };
  };
  const actors = {
    applicant: user('applicant1', 'Анна Петрова', 'applicant', home),
    foreignApplicant: user('applicant2', 'Игорь Волков', 'applicant', away),
    reviewer: user('reviewer1', 'Ольга Смирнова', 'reviewer'),
    coordinator: user('coordinator1', 'Сергей Иванов', 'coordinator'),
    commission: user('commission1', 'Елена Кузнецова', 'commission'),
    commission2: user('commission2', 'Алексей Бабинцев', 'commission'),
    auditor: user('auditor1', 'Марина Лекомцева', 'auditor'),
    admin: user('admin1', 'Администратор', 'admin'),
  };
  const engine = new Engine(db, { now: clock() });
  installWorkflows(engine);
  const staged = programmeWithActiveStages(engine, actors, activeStages);
  return { db, engine, programmeId: staged.programmeId, setupEvents: staged.events, actors };
}

/** An application walked through the given events by their usual senders; returns its id and version. */
function application(w: World, form: ApplicationForm, ...steps: [keyof World['actors'], string, unknown?][]) {
  const created = createApplication(w.engine, w.actors.applicant, { programmeId: w.programmeId, form });
  let version = created.version;
  for (const [who, type, payload] of steps) version = sendApplicationEvent(w.engine, w.actors[who], created.id, type, payload ?? {}, version).version;
  return { id: created.id, version };
}

const toReview: [keyof World['actors'], string, unknown?][] = [
  ['applicant', 'submit'],
  ['reviewer', 'start-review'],
];

/** The events written after the setup, in global order. */
function testEvents(w: World) {
  return w.db.select().from(events).where(gt(events.position, w.setupEvents)).orderBy(events.position).all();
}

/** Every row the write path touches, as SQLite holds it. */
function dump(db: Db) {
  return {
    count: db.$client.prepare('SELECT count(*) AS n FROM events').get(),
    events: db.$client.prepare('SELECT * FROM events ORDER BY position').all(),
    streams: db.$client.prepare('SELECT * FROM streams ORDER BY id').all(),
    applications: db.$client.prepare('SELECT * FROM applications ORDER BY id').all(),
    stages: db.$client.prepare('SELECT * FROM stages ORDER BY id').all(),
  };
}

/** Runs `work`, expects it to throw `kind`, and expects every row to be byte for byte as before. */
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

describe('the write path writes', () => {
  it('a created draft: the first event of a new chain, the stream and the list row', () => {
    const w = world();
    const created = createApplication(w.engine, w.actors.applicant, { programmeId: w.programmeId, form: { title: 'Черновик' } });
    expect(created).toMatchObject({ id: 1, state: 'draft', version: 1 });
    const written = testEvents(w);
    expect(written).toHaveLength(1);
    const [event] = written;
    expect(event).toMatchObject({ seq: 1, type: 'create', fromState: null, toState: 'draft', prevHash: GENESIS_HASH });
    const { hash, ...rest } = event!;
    expect(hash).toBe(hashEvent(rest));
    const stream = w.engine.loadStream(applicationStreamId(1))!;
    expect(stream).toMatchObject({ state: 'draft', version: 1, headHash: hash });
    expect(findApplication(w.engine.db, w.actors.applicant, 1)).toMatchObject({ title: 'Черновик', state: 'draft', version: 1 });
  });

  it('an accepted event: chained to the one before, the snapshot swapped and the list row in step', () => {
    const w = world();
    const { id } = application(w, completeForm, ...toReview);
    const rows = testEvents(w);
    expect(rows.map((r) => [r.seq, r.type, r.fromState, r.toState])).toEqual([
      [1, 'create', null, 'draft'],
      [2, 'submit', 'draft', 'submitted'],
      [3, 'start-review', 'submitted', 'under-review'],
    ]);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(JSON.parse(rows[1]!.facts)).toEqual({
      activeStages: [...activeStages],
      rules: { capKopecks: 150_000_000, minLocalShareBp: 500, minResidentsShareBp: 300 },
      // The first submission carries the programme's next registration number (issue 13).
      registration: { no: expect.stringMatching(/^ИБ-\d{4}-0001$/), seq: 1 },
    });
    expect(JSON.parse(rows[2]!.facts)).toEqual({ activeStages: [...activeStages] });
    const stream = w.engine.loadStream(applicationStreamId(id))!;
    expect(stream).toMatchObject({ state: 'under-review', version: 3, headHash: rows[2]!.hash });
    expect(findApplication(w.engine.db, w.actors.reviewer, id)).toMatchObject({
      state: 'under-review',
      version: 3,
      subsidyKopecks: 120_000_000,
      totalKopecks: 141_000_000,
    });
    expect(allowedEventTypes(applicationOptions(w.engine, w.actors.reviewer, loadApplication(w.engine, w.actors.reviewer, id).stream))).toEqual([
      'return-for-revision',
      'accept',
      'reject',
    ]);
  });
});

describe('a refusal writes nothing', () => {
  it('a stale expectedVersion → ConflictError with the current state and version', () => {
    const w = world();
    const { id, version } = application(w, completeForm, ['applicant', 'update', { beneficiaries: 1200 }]);
    expect(version).toBe(2);
    for (const stale of [1, 3, 0, -1]) {
      const error = refused(w, ConflictError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'X' }, stale));
      expect(error.current).toEqual({ state: 'draft', version: 2 });
      expect(statusOf(error)).toBe(409);
    }
  });

  it('an event the state does not take → NotAllowedError', () => {
    const w = world();
    const { id, version } = application(w, completeForm);
    const error = refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.reviewer, id, 'accept', {}, version));
    expect(error.params).toEqual({ state: 'draft', type: 'accept' });
    expect(statusOf(error)).toBe(422);
    refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.commission, id, 'award', { amountKopecks: 1 }, version));
    refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.coordinator, id, 'close', {}, version));
  });

  it('any event in a final state → NotAllowedError', () => {
    const w = world();
    const { id, version } = application(w, completeForm, ['applicant', 'withdraw', { reason: 'Передумали' }]);
    refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'X' }, version));
    refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, version));
    refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'withdraw', { reason: 'Ещё раз' }, version));
  });

  it('a role that may not send the event → ForbiddenError', () => {
    const w = world();
    const draft = application(w, completeForm);
    refused(w, ForbiddenError, () => sendApplicationEvent(w.engine, w.actors.reviewer, draft.id, 'update', { title: 'X' }, draft.version));
    refused(w, ForbiddenError, () => sendApplicationEvent(w.engine, w.actors.coordinator, draft.id, 'submit', {}, draft.version));
    const review = application(w, completeForm, ...toReview);
    refused(w, ForbiddenError, () => sendApplicationEvent(w.engine, w.actors.applicant, review.id, 'accept', {}, review.version));
    refused(w, ForbiddenError, () => sendApplicationEvent(w.engine, w.actors.commission, review.id, 'reject', { reason: 'Нет' }, review.version));
    for (const who of ['auditor', 'admin'] as const) {
      refused(w, ForbiddenError, () => sendApplicationEvent(w.engine, w.actors[who], review.id, 'accept', {}, review.version));
    }
  });

  it('a bad payload → ValidationError with the problems tied to fields', () => {
    const w = world();
    const draft = application(w, completeForm);
    const error = refused(w, ValidationError, () =>
      sendApplicationEvent(w.engine, w.actors.applicant, draft.id, 'update', { population: -1, title: '  ', colour: 'red' }, draft.version),
    );
    expect([...new Set(error.problems.map((p) => p.field))].sort()).toEqual(['general', 'population', 'title']);
    expect(error.problems.find((p) => p.field === 'general')!.code).toBe('unrecognized_keys');
    const costs = refused(w, ValidationError, () =>
      sendApplicationEvent(w.engine, w.actors.applicant, draft.id, 'update', { costs: { subsidy: 1.5 } }, draft.version),
    );
    expect(costs.problems.map((p) => p.field)).toEqual(['costs.subsidy']);
    const withdraw = refused(w, ValidationError, () => sendApplicationEvent(w.engine, w.actors.applicant, draft.id, 'withdraw', {}, draft.version));
    expect(withdraw.problems.map((p) => p.field)).toEqual(['reason']);

    const review = application(w, completeForm, ...toReview);
    const remarks = refused(w, ValidationError, () =>
      sendApplicationEvent(w.engine, w.actors.reviewer, review.id, 'return-for-revision', { remarks: [] }, review.version),
    );
    expect(remarks.problems.map((p) => p.field)).toEqual(['remarks']);
    refused(w, ValidationError, () => sendApplicationEvent(w.engine, w.actors.reviewer, review.id, 'return-for-revision', {}, review.version));
    refused(w, ValidationError, () => sendApplicationEvent(w.engine, w.actors.reviewer, review.id, 'reject', { reason: '' }, review.version));
  });

  it('an unknown event type → NotAllowedError, including the names every object inherits', () => {
    const w = world();
    const { id, version } = application(w, completeForm);
    for (const type of ['frobnicate', 'create', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const error = refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, type, {}, version));
      expect(error.params).toEqual({ type });
    }
  });

  it('submit of an incomplete form → ValidationError listing the missing fields', () => {
    const w = world();
    const { description: _d, durationMonths: _m, costs: _c, ...partial } = completeForm;
    const { id, version } = application(w, partial);
    const error = refused(w, ValidationError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, version));
    expect(error.problems).toEqual([
      { field: 'description', code: 'required' },
      { field: 'durationMonths', code: 'required' },
      { field: 'costs.subsidy', code: 'required' },
      { field: 'costs.localBudget', code: 'required' },
      { field: 'costs.residents', code: 'required' },
      { field: 'costs.business', code: 'required' },
    ]);
  });

  it('submit of a form that breaks the programme rules → ValidationError naming the rule', () => {
    const w = world();
    const { id, version } = application(w, { ...completeForm, costs: { ...completeForm.costs, subsidy: 150_000_001 } });
    const error = refused(w, ValidationError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, version));
    expect(error.problems).toEqual([{ field: 'costs.subsidy', code: 'above-cap', params: { cap: 150_000_000 } }]);
  });

  it('submit in a state that does not take it is NotAllowed, even when the form no longer fits the rules', () => {
    const w = world();
    const { id, version } = application(w, completeForm, ['applicant', 'submit']);
    w.db.update(programmes).set({ capKopecks: 100_000_000 }).where(sql`${programmes.id} = ${w.programmeId}`).run();
    const stream = w.engine.loadStream(applicationStreamId(id))!;
    const context = (JSON.parse(stream.snapshot) as { context: { form: ApplicationForm } }).context;
    expect(submitProblems(context.form, { capKopecks: 100_000_000, minLocalShareBp: 500, minResidentsShareBp: 300 })).not.toEqual([]);
    const error = refused(w, NotAllowedError, () => sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, version));
    expect(error.params).toEqual({ state: 'submitted', type: 'submit' });
  });

  it('an applicant of another municipality → NotFoundError, whatever the event', () => {
    const w = world();
    const { id, version } = application(w, completeForm);
    const other = w.actors.foreignApplicant;
    refused(w, NotFoundError, () => sendApplicationEvent(w.engine, other, id, 'update', { title: 'Чужая' }, version));
    refused(w, NotFoundError, () => sendApplicationEvent(w.engine, other, id, 'withdraw', { reason: 'Чужая' }, version));
    refused(w, NotFoundError, () => sendApplicationEvent(w.engine, other, id, 'frobnicate', {}, version));
    refused(w, NotFoundError, () => sendApplicationEvent(w.engine, other, id, 'update', { title: 'Чужая' }, version + 5));
    expect(() => findApplication(w.engine.db, other, id)).toThrow(NotFoundError);
  });

  it('an application that does not exist → NotFoundError', () => {
    const w = world();
    application(w, completeForm);
    refused(w, NotFoundError, () => sendApplicationEvent(w.engine, w.actors.applicant, 99, 'update', { title: 'X' }, 1));
  });

  it('a refused creation: a role that may not create, an unknown programme, a malformed form', () => {
    const w = world();
    application(w, completeForm);
    refused(w, ForbiddenError, () => createApplication(w.engine, w.actors.reviewer, { programmeId: w.programmeId, form: {} }));
    refused(w, ValidationError, () => createApplication(w.engine, w.actors.applicant, { programmeId: 999, form: {} }));
    refused(w, ValidationError, () => createApplication(w.engine, w.actors.applicant, { programmeId: w.programmeId, form: { population: 0 } }));
    refused(w, ValidationError, () => createApplication(w.engine, w.actors.applicant, { programmeId: 'one', form: {} }));
  });

  it('a failure after the event is appended rolls the whole transaction back', () => {
    const w = world();
    const { id, version } = application(w, completeForm);
    // The same facts as the real hook (the active stages), so that the event is taken and only the projection fails.
    const stages = stageReads(w.db);
    const failing = new Engine(w.db, { now: clock('2027-05-01T00:00:00.000Z') }).register({
      machineId: applicationMachineId,
      facts: () => ({ activeStages: stages.activeStageKeys(w.programmeId) }),
      project() {
        throw new Error('projection failed');
      },
    });
    const error = refused(w, Error, () => sendApplicationEvent(failing, w.actors.applicant, id, 'update', { title: 'Новое' }, version));
    expect(error.message).toBe('projection failed');
    expect(sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { title: 'Новое' }, version).version).toBe(version + 1);
  });
});

describe('a race on one expectedVersion', () => {
  it('two clients that read the same version: exactly one wins, the other learns the winner’s version', () => {
    const w = world();
    const { id, version } = application(w, completeForm, ['applicant', 'submit']);
    const outcomes = [w.actors.reviewer, w.actors.reviewer].map((actor) => {
      try {
        return sendApplicationEvent(w.engine, actor, id, 'start-review', {}, version);
      } catch (error) {
        return error;
      }
    });
    const winners = outcomes.filter((o) => !(o instanceof Error));
    const losers = outcomes.filter((o): o is ConflictError => o instanceof ConflictError);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.current).toEqual({ state: 'under-review', version: version + 1 });
    expect(testEvents(w)).toHaveLength(version + 1);
  });

  it('two commission members scoring at once on two connections: one score, one conflict', () => {
    const path = tempPath();
    const w = world(path);
    const { id, version } = application(w, completeForm, ...toReview, ['reviewer', 'accept']);
    const second = new Engine(open(path), { now: clock('2027-06-01T00:00:00.000Z') });
    installWorkflows(second);
    const first = sendApplicationEvent(w.engine, w.actors.commission, id, 'score', { significance: 5 }, version);
    expect(first.version).toBe(version + 1);
    const before = dump(w.db);
    expect(() => sendApplicationEvent(second, w.actors.commission2, id, 'score', { significance: 2 }, version)).toThrow(ConflictError);
    expect(dump(w.db)).toStrictEqual(before);
    const stream = second.loadStream(applicationStreamId(id))!;
    expect(Object.keys((JSON.parse(stream.snapshot) as { context: { scores: object } }).context.scores)).toEqual([String(w.actors.commission.id)]);
  });

  it('a second connection cannot get between the version check and the swap: it waits at BEGIN IMMEDIATE, then its own check refuses it', () => {
    const path = tempPath();
    const w = world(path);
    const { id, version } = application(w, completeForm, ...toReview, ['reviewer', 'accept']);
    const firstDb = open(path);
    const secondDb = open(path);
    // Within one thread the second cannot wait for the first to commit: it is told at once that the database is busy.
    secondDb.$client.pragma('busy_timeout = 0');
    const second = new Engine(secondDb, { now: clock('2027-06-01T00:00:00.000Z') });
    installWorkflows(second);
    const sendSecond = () => sendApplicationEvent(second, w.actors.commission2, id, 'score', { significance: 2 }, version);
    let during: { versionSeen: number; attempt: unknown } | undefined;
    const firstClock = clock('2027-06-01T00:00:00.000Z');
    // The engine asks its clock for the event's time after the version check and before the swap:
    // the moment a second writer would have to slip in.
    const first = new Engine(firstDb, {
      now: () => {
        if (firstDb.$client.inTransaction && !during) {
          let attempt: unknown;
          try {
            attempt = sendSecond();
          } catch (error) {
            attempt = error;
          }
          during = { versionSeen: second.loadStream(applicationStreamId(id))!.version, attempt };
        }
        return firstClock();
      },
    });
    installWorkflows(first);

    const winner = sendApplicationEvent(first, w.actors.commission, id, 'score', { significance: 5 }, version);
    expect(winner.version).toBe(version + 1);
    // Meanwhile the second could read (the version the first had checked) but not begin a write.
    expect(during?.versionSeen).toBe(version);
    expect(during?.attempt).toMatchObject({ code: 'SQLITE_BUSY' });

    // Once the first has committed the second goes on, as it would after its busy wait, and its version check refuses it.
    const before = dump(w.db);
    let loser: unknown;
    try {
      sendSecond();
    } catch (error) {
      loser = error;
    }
    expect(loser).toBeInstanceOf(ConflictError);
    expect((loser as ConflictError).current).toEqual({ state: 'accepted', version: version + 1 });
    expect(dump(w.db)).toStrictEqual(before);
    expect(testEvents(w)).toHaveLength(version + 1);
    const stream = w.engine.loadStream(applicationStreamId(id))!;
    expect(Object.keys((JSON.parse(stream.snapshot) as { context: { scores: object } }).context.scores)).toEqual([String(w.actors.commission.id)]);
  });

  it('two processes sending at the same moment: exactly one wins, the other gets a conflict', async () => {
    const path = tempPath();
    const w = world(path);
    const { id, version } = application(w, completeForm, ['applicant', 'submit']);
    const dir = tempDirs.at(-1)!;
    const script = join(dir, 'racer.mjs');
    const go = join(dir, 'go');
    const url = (file: string) => pathToFileURL(join(root, file)).href;
    writeFileSync(
      script,
      `
import { existsSync } from 'node:fs';
const { openDb } = await import(${JSON.stringify(url('src/db/client.ts'))});
const { workflowEngine } = await import(${JSON.stringify(url('src/workflows/index.ts'))});
const { sendApplicationEvent } = await import(${JSON.stringify(url('src/workflows/application/commands.ts'))});
const [dbPath, goFile, id, expectedVersion, login] = process.argv.slice(2);
const db = openDb({ path: dbPath });
const engine = workflowEngine(db);
const row = db.$client.prepare('SELECT * FROM users WHERE login = ?').get(login);
const actor = { id: row.id, login: row.login, name: row.name, role: row.role, municipalityId: row.municipality_id };
process.stdout.write('ready\\n');
const pause = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(goFile)) Atomics.wait(pause, 0, 0, 1);
let outcome;
try {
  outcome = { ok: true, version: sendApplicationEvent(engine, actor, Number(id), 'start-review', {}, Number(expectedVersion)).version };
} catch (error) {
  outcome = { ok: false, name: error.name, current: error.current };
}
db.$client.close();
process.stdout.write(JSON.stringify(outcome) + '\\n');
`,
    );
    const racers = ['reviewer1', 'reviewer1'].map((login) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, path, go, String(id), String(version), login], { cwd: root });
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const ready = new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('ready\n')) resolve();
        });
      });
      const done = new Promise<{ ok: boolean; version?: number; name?: string; current?: unknown }>((resolve, reject) =>
        child.on('close', (code) => {
          const last = out.trim().split('\n').at(-1) ?? '';
          if (code !== 0 || !last.startsWith('{')) reject(new Error(`racer exited ${code}: ${err}${out}`));
          else resolve(JSON.parse(last));
        }),
      );
      return { ready, done };
    });
    await Promise.race([Promise.all(racers.map((r) => r.ready)), Promise.all(racers.map((r) => r.done))]);
    writeFileSync(go, '');
    const outcomes = await Promise.all(racers.map((r) => r.done));
    expect(outcomes.filter((o) => o.ok)).toEqual([{ ok: true, version: version + 1 }]);
    expect(outcomes.filter((o) => !o.ok)).toEqual([{ ok: false, name: 'ConflictError', current: { state: 'under-review', version: version + 1 } }]);
    expect(testEvents(w)).toHaveLength(version + 1);
    expect(w.engine.loadStream(applicationStreamId(id))).toMatchObject({ state: 'under-review', version: version + 1 });
  });
});

describe('the event log', () => {
  it('refuses UPDATE and DELETE at the database, whoever asks', () => {
    const w = world();
    application(w, completeForm, ...toReview);
    const before = dump(w.db);
    expect(() => w.db.$client.exec(`UPDATE events SET payload = '{}' WHERE seq = 2`)).toThrow(/append-only/);
    expect(() => w.db.$client.exec(`UPDATE events SET hash = hash`)).toThrow(/append-only/);
    expect(() => w.db.$client.exec(`DELETE FROM events WHERE seq = 3`)).toThrow(/append-only/);
    expect(() => w.db.$client.exec(`DELETE FROM events`)).toThrow(/append-only/);
    expect(() => w.db.update(events).set({ toState: 'accepted' }).where(sql`${events.seq} = 3`).run()).toThrow(/append-only/);
    expect(() => w.db.delete(events).run()).toThrow(/append-only/);
    expect(() => w.db.delete(streams).run()).toThrow(/FOREIGN KEY/);
    expect(dump(w.db)).toStrictEqual(before);
  });
});
