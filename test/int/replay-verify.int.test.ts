import { afterEach, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/accounts/users.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import { municipalities, users } from '../../src/db/schema.ts';
import type { ApplicationForm } from '../../src/domain/application.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { demoDb, demoSummary } from '../demo-template.ts';
import { Engine, type StreamRow } from '../../src/engine/engine.ts';
import { GENESIS_HASH, foldHead } from '../../src/engine/ledger.ts';
import { loadStreamEvents, replayStream, type LedgerProblem } from '../../src/engine/replay.ts';
import { MachineRegistry, defaultRegistry } from '../../machines/registry.ts';
import {
  applicationCreateRoles,
  applicationEventRoles,
  applicationEventSchemas,
  applicationMachine,
  applicationMachineId,
  applicationMachineVersion,
  whyNotApplication,
} from '../../machines/application.ts';
import { stageDefinitions } from '../../machines/stages.ts';
import { programmeWithActiveStages } from './fixtures.ts';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { implementationFigures } from '../../src/domain/implementation.ts';
import { installWorkflows } from '../../src/workflows/index.ts';

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

type Who = 'applicant' | 'foreignApplicant' | 'reviewer' | 'coordinator' | 'commission1' | 'commission2' | 'commission3';

/**
 * The stages active in the tests' programme: the histories below run from the documentation to the
 * closing of the project, so every stage from the documentation on is open at once.
 */
const activeStages = ['documentation', 'intake', 'commission', 'legal', 'procurement', 'works', 'monitoring', 'closing'] as const;

function world() {
  const db = freshDb();
  const createdAt = '2027-01-10T08:00:00.000Z';
  const [home, away] = [
    { name: 'Завьяловский район', kind: 'district', population: 70_000 },
    { name: 'город Глазов', kind: 'city-okrug', population: 90_000 },
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
    commission1: user('commission1', 'Елена Кузнецова', 'commission'),
    commission2: user('commission2', 'Алексей Бабинцев', 'commission'),
    commission3: user('commission3', 'Наталья Шкляева', 'commission'),
  };
  const admin = user('admin1', 'Администратор', 'admin');
  let t = Date.parse('2027-03-02T05:00:00.000Z');
  const engine = new Engine(db, { now: () => new Date((t += 7 * 60_000)) });
  installWorkflows(engine);
  const staged = programmeWithActiveStages(engine, { admin, coordinator: actors.coordinator }, activeStages);
  return { db, engine, programmeId: staged.programmeId, actors, stageEvents: staged.events };
}
type World = ReturnType<typeof world>;

/** The form as the applicant sees it after a patch: the test's own merge, not the domain's. */
function patched(form: ApplicationForm, patch: ApplicationForm): ApplicationForm {
  return {
    ...form,
    ...patch,
    ...(patch.costs ? { costs: { ...form.costs, ...patch.costs } } : {}),
    ...(patch.nonMonetary ? { nonMonetary: { ...form.nonMonetary, ...patch.nonMonetary } } : {}),
  };
}

const firstDraft: ApplicationForm = {
  title: 'Водопровод в д. Пироги',
  projectType: 'water-supply',
  settlement: 'д. Пироги',
  population: 900,
};

type Step = [Who, string, Record<string, unknown>?];

/** The long history of application 1: two returns of sorts, three scores, the whole implementation. */
const mainSteps: Step[] = [
  ['applicant', 'update', { beneficiaries: 600, meetingAttendance: 120, problem: 'Колодцы пересыхают летом.' }],
  ['applicant', 'update', { description: 'Прокладка 1,2 км водопровода и две колонки.', durationMonths: 7, costs: { subsidy: 110_000_000, localBudget: 11_000_000 } }],
  ['applicant', 'update', { costs: { residents: 6_000_000, business: 2_000_000 }, nonMonetary: { labour: 3_000_000 } }],
  ['applicant', 'submit'],
  ['reviewer', 'start-review'],
  ['reviewer', 'return-for-revision', { remarks: [{ field: 'beneficiaries', text: 'Число благополучателей больше, чем подключаемых домов.' }, { text: 'Приложите протокол собрания.' }] }],
  ['applicant', 'update', { beneficiaries: 450, costs: { residents: 6_500_000 } }],
  ['applicant', 'submit'],
  ['reviewer', 'start-review'],
  ['reviewer', 'accept', { comment: 'Замечания устранены.' }],
  ['commission1', 'score', { significance: 5 }],
  ['commission2', 'score', { significance: 4, comment: 'Важно для всей деревни.' }],
  ['commission3', 'score', { significance: 4.5 }],
  ['commission1', 'award', { amountKopecks: 110_000_000 }],
  ['coordinator', 'start-implementation'],
  ['coordinator', 'sign-agreement', { agreementNo: 'С-2027/031', signedOn: '2027-03-02', amounts: { subsidy: 110_000_000, localBudget: 11_000_000, residents: 6_500_000, business: 2_000_000 } }],
  ['coordinator', 'record-contribution', { source: 'local-budget', amountKopecks: 11_000_000, receivedOn: '2027-03-02', reference: 'п/п № 412' }],
  ['applicant', 'record-contribution', { source: 'residents', amountKopecks: 6_500_000, receivedOn: '2027-03-02', payer: 'Инициативная группа' }],
  ['applicant', 'record-contribution', { source: 'business', amountKopecks: 2_000_000, receivedOn: '2027-03-02', payer: 'ООО «Агрофирма»' }],
  ['coordinator', 'confirm-contributions'],
  ['applicant', 'sign-contract', { contractNo: '7/2027-МК', signedOn: '2027-03-02', contractor: 'ООО «Водоканал-Сервис»', contractorInn: '1852601814', priceKopecks: 104_500_000 }],
  ['coordinator', 'record-contribution', { source: 'subsidy', amountKopecks: 110_000_000, receivedOn: '2027-03-02' }],
  ['applicant', 'report-progress', { percent: 40, note: 'Траншея прокопана.' }],
  ['coordinator', 'record-monitoring', { visitedOn: '2027-03-02', inspector: 'С. Иванов', verdict: 'ok', finding: 'Работы идут по графику.' }],
  ['applicant', 'report-progress', { percent: 90 }],
  ['applicant', 'attach-evidence', { kind: 'acceptance-act', name: 'акт.pdf', size: 51_200, mediaType: 'application/pdf', sha256: 'd'.repeat(64) }],
  ['applicant', 'record-milestone', { kind: 'acceptance-signed', on: '2027-03-02' }],
  ['coordinator', 'complete-works'],
  ['coordinator', 'record-monitoring', { visitedOn: '2027-03-02', inspector: 'С. Иванов', verdict: 'ok', finding: 'Колонки работают, жители довольны.' }],
  ['applicant', 'report-spending', { actual: { subsidy: 104_500_000, localBudget: 0, residents: 0, business: 0 } }],
  ['coordinator', 'close'],
];

/** Application 2, interleaved with application 1 so that the global order mixes the two. */
const otherSteps: Step[] = [
  ['foreignApplicant', 'update', { beneficiaries: 300, meetingAttendance: 80, problem: 'Темно.', description: 'Фонари.', durationMonths: 3 }],
  ['foreignApplicant', 'update', { costs: { subsidy: 50_000_000, localBudget: 5_000_000, residents: 3_000_000, business: 0 } }],
  ['foreignApplicant', 'submit'],
  ['reviewer', 'start-review'],
  ['reviewer', 'reject', { reason: 'Объект не в муниципальной собственности.' }],
];

interface Built {
  w: World;
  streamId: string;
  otherStreamId: string;
  /** The form after each event of application 1, by seq. */
  forms: Map<number, ApplicationForm>;
  /** The streams row of application 1 after each of its events, by seq. */
  streamAfter: Map<number, StreamRow>;
  /** The ledger head right after each event of application 1, by seq. */
  headAfter: Map<number, string>;
  /** The streams row of application 2 after each of its events, by seq. */
  otherAfter: Map<number, StreamRow>;
}

/**
 * Builds the two histories through the engine: application 2's events fall between application 1's
 * 4th and 9th, and application 1 ends the log. `afterEach` runs after every event of application 1.
 */
function build(afterEach?: (built: Built, seq: number, type: string) => void): Built {
  const w = world();
  const main = createApplication(w.engine, w.actors.applicant, { programmeId: w.programmeId, form: firstDraft });
  const streamId = applicationStreamId(main.id);
  const built: Built = { w, streamId, otherStreamId: '', forms: new Map(), streamAfter: new Map(), headAfter: new Map(), otherAfter: new Map() };
  let form = firstDraft;
  const record = (seq: number, type: string) => {
    built.forms.set(seq, form);
    built.streamAfter.set(seq, w.engine.loadStream(streamId)!);
    built.headAfter.set(seq, ledgerHead(w.db));
    afterEach?.(built, seq, type);
  };
  record(1, 'create');

  const other = createApplication(w.engine, w.actors.foreignApplicant, { programmeId: w.programmeId, form: { title: 'Фонари на ул. Мира', projectType: 'street-lighting', settlement: 'г. Глазов, мкр. Северный', population: 4000 } });
  built.otherStreamId = applicationStreamId(other.id);
  built.otherAfter.set(1, w.engine.loadStream(built.otherStreamId)!);
  let otherVersion = other.version;
  const sendOther = () => {
    const [who, type, payload] = otherSteps[otherVersion - 1]!;
    otherVersion = sendApplicationEvent(w.engine, w.actors[who], other.id, type, payload ?? {}, otherVersion).version;
    built.otherAfter.set(otherVersion, w.engine.loadStream(built.otherStreamId)!);
  };

  let version = main.version;
  for (const [who, type, payload] of mainSteps) {
    // The award stands for the commission's decision, the act for its upload: each through the same write path.
    const channel = type === 'award' || type === 'not-award' ? 'decision' : type === 'attach-evidence' ? 'upload' : undefined;
    version = channel
      ? w.engine.apply(applicationStreamId(main.id), { type, payload: payload ?? {} }, version, w.actors[who], { channel }).version
      : sendApplicationEvent(w.engine, w.actors[who], main.id, type, payload ?? {}, version).version;
    if (type === 'update') form = patched(form, payload as ApplicationForm);
    record(version, type);
    if (version >= 4 && version <= 8) sendOther();
  }
  expect(otherVersion).toBe(otherSteps.length + 1);
  expect(version).toBe(mainSteps.length + 1);
  return built;
}

const mainLength = mainSteps.length + 1;

/** The head as `verify` folds it, computed on its own: every event's hash in global order. */
function ledgerHead(db: Db): string {
  const hashes = db.$client.prepare('SELECT hash FROM events ORDER BY position').pluck().all() as string[];
  return hashes.reduce(foldHead, GENESIS_HASH);
}

function dropTriggers(db: Db): void {
  db.$client.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
}

/**
 * Changes exactly one byte of a text, from its middle on: an ASCII letter or digit to the next one,
 * or, in a text without any (`{}`), an ASCII sign to another (`{` → `[`). It stays valid UTF-8.
 */
function flipOneByte(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const half = Math.floor(bytes.length / 2);
  const order = [...bytes.keys()].slice(half).concat([...bytes.keys()].slice(0, half).reverse());
  const isAlnum = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  const alnum = order.find((i) => isAlnum(bytes[i]!));
  const index = alnum ?? order.find((i) => bytes[i]! > 0x20 && bytes[i]! < 0x80);
  if (index === undefined) throw new Error(`nothing to flip in ${text}`);
  const b = bytes[index]!;
  bytes[index] = alnum === undefined ? b ^ 0x20 : b === 0x39 ? 0x30 : b === 0x5a ? 0x41 : b === 0x7a ? 0x61 : b + 1;
  const flipped = bytes.toString('utf8');
  const changed = [...Buffer.from(flipped, 'utf8')].filter((byte, i) => byte !== Buffer.from(text, 'utf8')[i]);
  expect(Buffer.from(flipped, 'utf8').length).toBe(Buffer.from(text, 'utf8').length);
  expect(changed).toHaveLength(1);
  return flipped;
}

const eventColumns = ['payload', 'facts', 'actor', 'at', 'type', 'from_state', 'to_state', 'machine_version', 'prev_hash', 'hash', 'seq'] as const;

function tamper(db: Db, streamId: string, seq: number, column: (typeof eventColumns)[number]): { was: unknown; now: unknown } {
  const row = db.$client.prepare(`SELECT ${column} AS value FROM events WHERE stream_id = ? AND seq = ?`).get(streamId, seq) as { value: unknown };
  // Integers change by one bit (0x40: no event of these streams has that seq), texts by one byte.
  const now = typeof row.value === 'number' ? row.value ^ 0x40 : flipOneByte(row.value as string);
  db.$client.prepare(`UPDATE events SET ${column} = ? WHERE stream_id = ? AND seq = ?`).run(now, streamId, seq);
  return { was: row.value, now };
}

const names = (problems: LedgerProblem[], stream: string, seq: number | null) => problems.filter((p) => p.stream === stream && p.seq === seq);

describe('replay', () => {
  it('after every event reproduces the stored state, snapshot and form, and every earlier step too', () => {
    let checked = 0;
    build(({ w, streamId, forms }, seq, type) => {
      const stream = w.engine.loadStream(streamId)!;
      const rows = loadStreamEvents(w.db, streamId);
      const result = replayStream(registry, stream, rows);
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.steps).toHaveLength(seq);
      const last = result.steps.at(-1)!;
      expect(last).toMatchObject({ seq, type, to: stream.state, replayedState: stream.state, matches: true });
      expect(last.context).toEqual((JSON.parse(stream.snapshot) as { context: unknown }).context);
      for (const step of result.steps) {
        expect((step.context as { form: ApplicationForm }).form, `form after event ${step.seq}`).toEqual(forms.get(step.seq));
      }
      checked += 1;
    });
    expect(checked).toBe(mainLength);
    expect(mainLength).toBeGreaterThanOrEqual(15);
  });

  it('replays the history a reader expects: remarks, scores, award and the end state', () => {
    const { w, streamId } = build();
    const result = replayStream(registry, w.engine.loadStream(streamId)!, loadStreamEvents(w.db, streamId));
    expect(result.steps.map((s) => s.to)).toContain('returned');
    const returned = result.steps.find((s) => s.type === 'return-for-revision')!.context as { remarks: unknown[] };
    expect(returned.remarks).toEqual([
      { field: 'beneficiaries', text: 'Число благополучателей больше, чем подключаемых домов.' },
      { field: 'general', text: 'Приложите протокол собрания.' },
    ]);
    const end = result.steps.at(-1)!;
    expect(end.replayedState).toBe('closed');
    const context = end.context as { scores: Record<string, unknown>; awardedKopecks: number; submissions: number; progressPercent: number; visits: unknown[]; contributions: unknown[]; spending: unknown };
    expect(Object.keys(context.scores)).toHaveLength(3);
    expect(context).toMatchObject({ awardedKopecks: 110_000_000, submissions: 2, progressPercent: 100 });
    expect(context.visits).toHaveLength(2);
    expect(context.contributions).toHaveLength(4);
    expect(context.spending).not.toBeNull();
  });

  it('reports, without throwing, events whose machine version is not registered', () => {
    const { w, streamId } = build();
    const rows = loadStreamEvents(w.db, streamId);
    const result = replayStream(new MachineRegistry(), w.engine.loadStream(streamId)!, rows);
    expect(result.ok).toBe(false);
    expect(result.steps).toHaveLength(rows.length);
    expect(result.problems.filter((p) => p.kind === 'unknown-machine-version')).toHaveLength(rows.length);
    const report = verifyLedger(w.db, new MachineRegistry());
    expect(report.ok).toBe(false);
  });

  it('catches a machine changed under a version number it already recorded', () => {
    const { w, streamId } = build();
    // Someone "fixed" version 1 so that the commission may no longer award: old histories stop replaying.
    const changed = new MachineRegistry().register({
      id: applicationMachineId,
      version: applicationMachineVersion,
      machine: applicationMachine.provide({ guards: { allowed: ({ context, event }) => event.type !== 'award' && whyNotApplication(context, event).length === 0 } }),
      eventSchemas: applicationEventSchemas,
      eventRoles: applicationEventRoles,
      createRoles: applicationCreateRoles,
    });
    const result = replayStream(changed, w.engine.loadStream(streamId)!, loadStreamEvents(w.db, streamId));
    expect(result.ok).toBe(false);
    const award = mainSteps.findIndex(([, type]) => type === 'award') + 2;
    expect(result.problems.find((p) => p.kind === 'state-mismatch')).toMatchObject({ stream: streamId, seq: award });
  });
});

describe('verify', () => {
  it('is ok on the built history and prints a head that pins every event', () => {
    const { w, headAfter } = build();
    const report = verifyLedger(w.db, registry);
    // The two applications, the twelve stage streams with the events that opened the stages, and the journal's entries that let stages complete.
    expect(report).toMatchObject({
      ok: true,
      streams: 2 + stageDefinitions.length + journalStreams(w.db),
      events: mainLength + otherSteps.length + 1 + w.stageEvents,
      problems: [],
    });
    expect(report.head).toMatch(/^[0-9a-f]{64}$/);
    expect(report.head).toBe(headAfter.get(mainLength));
    expect(verifyLedger(w.db, registry, { expectedHead: report.head }).ok).toBe(true);
  });

  it('is ok on the demo seed', async () => {
    // The demo as seedDemo made it at this clock, once per run (test/demo-template.ts).
    const db = await demoDb({ now: '2027-05-20T09:00:00.000Z' });
    opened.push(db);
    const summary = await demoSummary('2027-05-20T09:00:00.000Z');
    const report = verifyLedger(db, registry);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    // Every application, the twelve stage streams of each programme, the reviewers' own, every entry of the journal and the conversations (issue 12).
    expect(summary.reviewerStreams).toBeGreaterThan(0);
    expect(summary.conversations).toBeGreaterThan(0);
    expect(journalStreams(db)).toBeGreaterThan(50);
    expect(report.streams).toBe(summary.applications + stageDefinitions.length * summary.programmeIds.length + summary.reviewerStreams + journalStreams(db) + summary.conversations);
    expect(report.events).toBeGreaterThan(summary.applications * 3);
  });

  describe('finds one changed byte in any column of any event, naming the stream and the event', () => {
    for (const seq of [1, 7, 8, mainLength]) {
      for (const column of eventColumns) {
        if (seq === 1 && column === 'from_state') continue; // null in a creation: there is no byte to change
        it(`${column} of event ${seq}`, () => {
          const { w, streamId, headAfter } = build();
          dropTriggers(w.db);
          const { was, now } = tamper(w.db, streamId, seq, column);
          expect(now).not.toEqual(was);
          const report = verifyLedger(w.db, registry);
          expect(report.ok).toBe(false);
          expect(names(report.problems, streamId, seq), JSON.stringify(report.problems, null, 1)).not.toEqual([]);
          // Application 2 is untouched and stays clean.
          expect(report.problems.filter((p) => p.stream !== streamId && p.stream !== '*')).toEqual([]);
          if (column === 'hash') expect(report.head).not.toBe(headAfter.get(mainLength));
        });
      }
    }
  });

  it('finds a deleted event as missing, by its seq', () => {
    const { w, streamId } = build();
    dropTriggers(w.db);
    w.db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq = 8').run(streamId);
    const report = verifyLedger(w.db, registry);
    expect(report.ok).toBe(false);
    expect(names(report.problems, streamId, 8).map((p) => p.kind)).toContain('missing-event');
    // One deletion is one missing event, not a cascade over every later event.
    expect(report.problems.filter((p) => p.kind === 'missing-event' && p.stream === streamId)).toHaveLength(1);
    expect(report.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(['broken-chain', 'version-mismatch']));
  });

  it('finds a cut tail with its stream row rewritten to match, when events of others follow it', () => {
    const { w, otherStreamId, otherAfter } = build();
    expect(verifyLedger(w.db, registry).ok).toBe(true);
    dropTriggers(w.db);
    // Application 2's rejection is undone as if it never happened: events and stream row agree again.
    const keep = otherSteps.length - 1;
    w.db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq > ?').run(otherStreamId, keep);
    const forged = otherAfter.get(keep)!;
    w.db.$client
      .prepare('UPDATE streams SET state = ?, snapshot = ?, version = ?, head_hash = ?, updated_at = ? WHERE id = ?')
      .run(forged.state, forged.snapshot, forged.version, forged.headHash, forged.updatedAt, otherStreamId);
    expect(replayStream(registry, w.engine.loadStream(otherStreamId)!, loadStreamEvents(w.db, otherStreamId)).ok).toBe(true);
    const report = verifyLedger(w.db, registry);
    expect(report.ok).toBe(false);
    // Two holes: the two cut events stood apart, between events of application 1.
    expect(report.problems.filter((p) => p.kind !== 'projection-mismatch')).toEqual([
      expect.objectContaining({ stream: '*', seq: null, kind: 'missing-event' }),
      expect.objectContaining({ stream: '*', seq: null, kind: 'missing-event' }),
    ]);
    // And the list row, left as it was, still shows the rejection the ledger no longer has (issue 17.2).
    expect(report.problems).toContainEqual(
      expect.objectContaining({ stream: otherStreamId, kind: 'projection-mismatch', projection: expect.objectContaining({ table: 'applications', column: 'state', derived: forged.state }) }),
    );
  });

  it('finds a cut at the end of the log, stream row rewritten to match, against the head published before the cut', () => {
    const { w, streamId, streamAfter, headAfter } = build();
    const published = verifyLedger(w.db, registry);
    expect(published.ok).toBe(true);

    dropTriggers(w.db);
    const keep = mainLength - 3; // the works are completed, monitored and closed no more
    w.db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq > ?').run(streamId, keep);
    const forged = streamAfter.get(keep)!;
    w.db.$client
      .prepare('UPDATE streams SET state = ?, snapshot = ?, version = ?, head_hash = ?, updated_at = ? WHERE id = ?')
      .run(forged.state, forged.snapshot, forged.version, forged.headHash, forged.updatedAt, streamId);
    w.db.$client.prepare('UPDATE applications SET state = ?, version = ?, updated_at = ? WHERE stream_id = ?').run(forged.state, forged.version, forged.updatedAt, streamId);
    // The list row's money after the award too (issue 11): the cut took the spending report away.
    const figures = implementationFigures((JSON.parse(forged.snapshot) as { context: Record<string, never> }).context);
    w.db.$client
      .prepare('UPDATE applications SET agreed_kopecks = ?, received_kopecks = ?, spent_kopecks = ?, progress_percent = ? WHERE stream_id = ?')
      .run(figures.agreedKopecks, figures.receivedKopecks, figures.spentKopecks, figures.progressPercent, streamId);

    // SQLite's AUTOINCREMENT counter still remembers the cut positions, and verify reads it…
    const remembered = verifyLedger(w.db, registry);
    expect(remembered.problems).toEqual([expect.objectContaining({ stream: '*', seq: null, kind: 'missing-event' })]);
    // …so a thorough forger rewinds it too.
    const lastKept = w.db.$client.prepare('SELECT MAX(position) FROM events').pluck().get() as number;
    w.db.$client.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(lastKept);

    // From inside, the forged ledger is then the honest ledger as it stood after event `keep`…
    const inside = verifyLedger(w.db, registry);
    expect(inside.problems).toEqual([]);
    expect(inside.head).toBe(headAfter.get(keep));
    // …and only the head published before the cut tells them apart.
    const anchored = verifyLedger(w.db, registry, { expectedHead: published.head });
    expect(anchored.ok).toBe(false);
    expect(anchored.problems).toEqual([expect.objectContaining({ stream: '*', seq: null, kind: 'head-mismatch' })]);
  });
});

/** How many journal entries (streams of their own, issue 14) the database holds. */
function journalStreams(db: { $client: { prepare: (sql: string) => { get: () => unknown } } }): number {
  return (db.$client.prepare("SELECT count(*) AS n FROM streams WHERE machine_id = 'journal'").get() as { n: number }).n;
}
