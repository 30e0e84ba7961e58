import { afterEach, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/accounts/users.ts';
import { openDb, type Db } from '../../src/db/client.ts';
import { municipalities, users } from '../../src/db/schema.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { ForbiddenError, NotAllowedError, ValidationError } from '../../src/engine/errors.ts';
import { loadStreamEvents, replayStoredStream } from '../../src/engine/replay.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { defaultRegistry, stageV1 } from '../../machines/registry.ts';
import { stageMachineVersion } from '../../machines/stage.ts';
import { createProgramme } from '../../src/workflows/programme/create.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { checkDocumentFiles } from '../../src/workflows/documents/check.ts';
import { DocumentStore, documentsDirFor } from '../../src/workflows/documents/store.ts';
import { journalCoverage } from '../../src/workflows/journal/coverage.ts';
import { linkJournalApplication, recordJournalEntry, takeJournalDocument, type JournalUpload } from '../../src/workflows/journal/commands.ts';
import { journalReads, listJournal, loadJournalEntry } from '../../src/workflows/journal/reads.ts';
import { sendStageEvent } from '../../src/workflows/stage/commands.ts';
import { workflowEngine } from '../../src/workflows/index.ts';
import { completeForm, programmeWithActiveStages, programmeInput, yearPlan } from './fixtures.ts';
import { samples } from './document-samples.ts';
import { defaultDocumentRules } from '../../src/domain/documents.ts';

/**
 * The programme journal through the engine (issue 14): entries are streams of their own, refused
 * by role and by municipality, read by the stages' exit conditions, chained, replayed and
 * verified; corrections supersede, documents are checked by content and can be taken by the
 * application the final meeting produced.
 */

const registry = defaultRegistry();
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

function world() {
  const db = openDb({ path: ':memory:', synchronous: 'OFF' });
  opened.push(db);
  let now = new Date('2027-04-10T08:00:00.000Z');
  const engine = workflowEngine(db, { now: () => now });
  const store = new DocumentStore(documentsDirFor(db));
  const [home, away] = [
    { name: 'город Сарапул', kind: 'city-okrug', population: 94_000 },
    { name: 'Завьяловский район', kind: 'district', population: 72_000 },
  ].map((m) => db.insert(municipalities).values(m).returning().get().id) as [number, number];
  const user = (login: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = insertUser(db, { login, name: login, role, municipalityId, passwordHash: 'x', createdAt: now.toISOString() }, null);
    return { id: row.id, login, name: login, role, municipalityId };
  };
  const actors = {
    admin: user('admin1', 'admin'),
    coordinator: user('coordinator1', 'coordinator'),
    reviewer: user('reviewer1', 'reviewer'),
    commission: user('commission1', 'commission'),
    auditor: user('auditor1', 'auditor'),
    applicant: user('applicant1', 'applicant', home),
    foreign: user('applicant2', 'applicant', away),
  };
  return { db, engine, store, home, away, actors, tick: (minutes = 60) => (now = new Date(now.getTime() + minutes * 60_000)) };
}

type World = ReturnType<typeof world>;
const bytes = (w: World, data: Buffer, name: string, role: string): JournalUpload => ({ role, fileName: name, received: w.store.receiveBytes(data) });
const finalMeeting = (w: World, extra: Record<string, unknown> = {}) => ({ municipalityId: w.home, settlement: 'город Сарапул', date: '2027-04-01', attendance: 180, project: 'Освещение улицы Лесной', ...extra });

describe('recording', () => {
  it('refuses every role but coordinators and reviewers, and writes nothing', () => {
    const w = world();
    const { programmeId } = programmeWithActiveStages(w.engine, w.actors, ['final-meetings']);
    const before = loadCount(w.db);
    for (const actor of [w.actors.admin, w.actors.commission, w.actors.auditor, w.actors.applicant]) {
      expect(() => recordJournalEntry(w.engine, w.store, actor, programmeId, { kind: 'final-meeting', fields: finalMeeting(w) }), actor.role).toThrow(ForbiddenError);
    }
    expect(loadCount(w.db)).toBe(before);
    for (const actor of [w.actors.coordinator, w.actors.reviewer]) {
      expect(recordJournalEntry(w.engine, w.store, actor, programmeId, { kind: 'final-meeting', fields: finalMeeting(w) }).state).toBe('recorded');
    }
  });

  it('refuses a consultation about another municipality’s application beside the field, and while no stage that owns it is active', () => {
    const w = world();
    const staged = programmeWithActiveStages(w.engine, w.actors, ['documentation']);
    const application = createApplication(w.engine, w.actors.applicant, { programmeId: staged.programmeId, form: completeForm });
    const consultation = (municipalityId: number) => ({ municipalityId, applicationId: application.id, date: '2027-04-09', channel: 'phone', topic: 'Смета', question: 'Кто согласует?', answer: 'Глава.', consultant: 'reviewer1' });
    const before = loadCount(w.db);
    const refused = catchError(() => recordJournalEntry(w.engine, w.store, w.actors.reviewer, staged.programmeId, { kind: 'consultation', fields: consultation(w.away) }));
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).problems).toEqual([{ field: 'applicationId', code: 'journal.problem.application-other-municipality' }]);
    expect(loadCount(w.db)).toBe(before);
    expect(recordJournalEntry(w.engine, w.store, w.actors.reviewer, staged.programmeId, { kind: 'consultation', fields: consultation(w.home) }).state).toBe('recorded');
    // The application's page reads it back by the application.
    expect(journalReads(w.db).ofApplication(application.id).map((row) => row.kind)).toEqual(['consultation']);
    // Announcements belong to stage 1, which is over.
    const closed = catchError(() => recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'announcement', fields: { channel: 'site', date: '2027-04-01', title: 'Поздно', link: 'https://example.org' } }));
    expect(closed).toBeInstanceOf(NotAllowedError);
    expect((closed as NotAllowedError).reason).toBe('journal.refused.stage-closed');
  });

  it('an applicant sees the programme’s announcements and their own municipality’s entries only', () => {
    const w = world();
    const { programmeId } = programmeWithActiveStages(w.engine, w.actors, ['final-meetings']);
    const own = recordJournalEntry(w.engine, w.store, w.actors.coordinator, programmeId, { kind: 'final-meeting', fields: finalMeeting(w) });
    const other = recordJournalEntry(w.engine, w.store, w.actors.coordinator, programmeId, { kind: 'final-meeting', fields: finalMeeting(w, { municipalityId: w.away, settlement: 'с. Завьялово' }) });
    const seen = (actor: Actor) => listJournal(w.db, actor, programmeId, {}).map((row) => row.id).sort();
    expect(seen(w.actors.applicant)).toContain(own.id);
    expect(seen(w.actors.applicant)).not.toContain(other.id);
    expect(seen(w.actors.foreign)).toContain(other.id);
    expect(seen(w.actors.foreign)).not.toContain(own.id);
    expect(seen(w.actors.auditor)).toEqual(expect.arrayContaining([own.id, other.id]));
    expect(() => loadJournalEntry(w.engine, w.actors.foreign, own.id)).toThrow('not found');
    // The fixture's announcement of stage 1 stands for everyone.
    expect(listJournal(w.db, w.actors.foreign, programmeId, { kind: 'announcement' })).toHaveLength(1);
  });
});

describe('the stages read the journal', () => {
  it('stage 2 is refused without a training, and completes once one is recorded', () => {
    const w = world();
    const staged = programmeWithActiveStages(w.engine, w.actors, ['training']);
    for (const task of ['local-government', 'initiative-groups']) staged.send(2, 'complete-task', { task });
    const refused = catchError(() => staged.send(2, 'complete'));
    expect((refused as NotAllowedError).reason).toBe('stage.exit.no-training');
    recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, {
      kind: 'training',
      fields: { date: '2027-02-20', topic: 'Подготовка заявки', format: 'online', municipalityIds: [w.home, w.away], participants: 30 },
    });
    staged.send(2, 'complete');
    const complete = loadStreamEvents(w.db, `stage-${staged.programmeId}-2`).at(-1)!;
    expect(complete.toState).toBe('completed');
    expect(JSON.parse(complete.facts).exit.journal.byKind).toMatchObject({ training: 1 });
  });

  it('stage 4 names the municipalities that applied without a final meeting; a correction keeps the count, and then it completes', () => {
    const w = world();
    const staged = programmeWithActiveStages(w.engine, w.actors, ['final-meetings', 'documentation'], { input: { year: 2027 } });
    const app = createApplication(w.engine, w.actors.applicant, { programmeId: staged.programmeId, form: completeForm });
    // A draft is not an application filed: nothing is missing yet.
    for (const task of ['meetings', 'consulting']) staged.send(4, 'complete-task', { task });
    const draftOnly = w.engine.eventOptions(w.engine.loadStream(`stage-${staged.programmeId}-4`)!, w.actors.coordinator).find((o) => o.type === 'complete')!;
    expect(draftOnly.open).toBe(true);
    sendApplicationEvent(w.engine, w.actors.applicant, app.id, 'submit', {}, app.version);
    const refused = catchError(() => staged.send(4, 'complete'));
    expect(refused).toBeInstanceOf(NotAllowedError);
    expect((refused as NotAllowedError).reason).toBe('stage.exit.final-meetings-missing');
    expect((refused as NotAllowedError).params).toEqual({ count: 1, municipalities: 'город Сарапул' });
    // A meeting in another municipality does not count for this one.
    recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w, { municipalityId: w.away, settlement: 'с. Завьялово' }) });
    expect((catchError(() => staged.send(4, 'complete')) as NotAllowedError).reason).toBe('stage.exit.final-meetings-missing');
    const meeting = recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w, { attendance: 18 }) });
    // The attendance was mistyped: the correction supersedes the entry, and the municipality still has one meeting.
    const corrected = recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w, { attendance: 180 }), supersedes: meeting.id });
    expect(loadJournalEntry(w.engine, w.actors.coordinator, meeting.id).row).toMatchObject({ state: 'superseded', supersededBy: corrected.id });
    expect(journalReads(w.db).counts(staged.programmeId).byMunicipality['final-meeting']).toEqual({ [String(w.home)]: 1, [String(w.away)]: 1 });
    expect(journalCoverage(w.db, staged.programmeId).totals.participants['final-meeting']).toBe(180 + 180);
    // A correction of a correction's original is refused: it stands superseded.
    expect((catchError(() => recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w), supersedes: meeting.id })) as NotAllowedError).reason).toBe(
      'journal.refused.already-superseded',
    );
    staged.send(4, 'complete');
    expect(w.engine.loadStream(`stage-${staged.programmeId}-4`)!.state).toBe('completed');
  });
});

describe('documents, links and the ledger', () => {
  it('checks files by content, links the meeting, and the application takes its minutes through the normal attach path', async () => {
    const w = world();
    const staged = programmeWithActiveStages(w.engine, w.actors, ['final-meetings'], { documentRules: defaultDocumentRules });
    const app = createApplication(w.engine, w.actors.applicant, { programmeId: staged.programmeId, form: completeForm });
    // An HTML page named .pdf is no minutes: refused beside its field, nothing kept.
    const lie = catchError(() =>
      recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w) }, [bytes(w, Buffer.from('<html><script>x</script></html>'), 'протокол.pdf', 'minutes')]),
    );
    expect((lie as ValidationError).problems.map((p) => [p.field, p.code])).toEqual([['document.minutes', 'document-type-unknown']]);
    const pdf = samples.pdf();
    const meeting = recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w) }, [bytes(w, pdf, 'Протокол собрания.pdf', 'minutes')]);
    const entry = loadJournalEntry(w.engine, w.actors.coordinator, meeting.id);
    expect(entry.context.documents.map((d) => [d.role, d.name, d.mediaType])).toEqual([['minutes', 'Протокол собрания.pdf', 'application/pdf']]);
    // Linked to an application of another municipality: refused beside the field.
    const foreignApp = createApplication(w.engine, w.actors.foreign, { programmeId: staged.programmeId, form: completeForm });
    expect((catchError(() => linkJournalApplication(w.engine, w.actors.coordinator, meeting.id, foreignApp.id, entry.row.version)) as ValidationError).problems).toEqual([
      { field: 'applicationId', code: 'journal.problem.application-other-municipality' },
    ]);
    // Before the link the application cannot take the minutes; after it, it can.
    const sha256 = entry.context.documents[0]!.sha256;
    await expect(takeJournalDocument(w.engine, w.store, w.actors.applicant, app.id, meeting.id, sha256)).rejects.toThrow(ValidationError);
    linkJournalApplication(w.engine, w.actors.coordinator, meeting.id, app.id, entry.row.version);
    await expect(takeJournalDocument(w.engine, w.store, w.actors.foreign, app.id, meeting.id, sha256)).rejects.toThrow('not found');
    const taken = await takeJournalDocument(w.engine, w.store, w.actors.applicant, app.id, meeting.id, sha256);
    expect(JSON.parse(taken.event.payload)).toMatchObject({ kind: 'meeting-minutes', name: 'Протокол собрания.pdf', sha256 });
    // One file, named by two streams' events; both are checked against it.
    const report = await checkDocumentFiles(w.db, w.store);
    expect(report.problems).toEqual([]);
    expect(report.files).toBe(2);
  });

  it('replays and verifies every entry, and names a changed entry by stream and seq', () => {
    const w = world();
    const staged = programmeWithActiveStages(w.engine, w.actors, ['final-meetings']);
    const meeting = recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w) }, [bytes(w, samples.pdf(), 'Протокол.pdf', 'minutes')]);
    recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, { kind: 'final-meeting', fields: finalMeeting(w, { attendance: 181 }), supersedes: meeting.id });
    const streams = w.db.$client.prepare<[], { id: string }>("SELECT id FROM streams WHERE machine_id = 'journal' ORDER BY id").all();
    // The fixture's announcement and training, the meeting (create, attach, supersede) and its correction (create, attach carried over).
    expect(streams.map((s) => s.id)).toEqual(['journal-1', 'journal-2', 'journal-3', 'journal-4']);
    for (const { id } of streams) expect(replayStoredStream(w.db, registry, w.engine.loadStream(id)!).problems, id).toEqual([]);
    expect(loadStreamEvents(w.db, 'journal-3').map((e) => [e.seq, e.type, e.toState])).toEqual([
      [1, 'create', 'recorded'],
      [2, 'attach-document', 'recorded'],
      [3, 'supersede', 'superseded'],
    ]);
    expect(loadStreamEvents(w.db, 'journal-4').map((e) => e.type)).toEqual(['create', 'attach-document']);
    expect(verifyLedger(w.db, registry)).toMatchObject({ ok: true, problems: [] });

    // Someone raises the attendance after the fact, past the database's own guard.
    w.db.$client.exec('DROP TRIGGER events_no_update;');
    const create = loadStreamEvents(w.db, 'journal-4')[0]!;
    w.db.$client.prepare('UPDATE events SET payload = ? WHERE stream_id = ? AND seq = 1').run(create.payload.replace('"attendance":181', '"attendance":1810'), 'journal-4');
    const report = verifyLedger(w.db, registry);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ stream: 'journal-4', seq: 1, kind: 'hash-mismatch' }));
    expect(report.problems).toContainEqual(expect.objectContaining({ stream: 'journal-4', kind: 'snapshot-mismatch' }));
  });

  it('a stage event that ticked a task with the journal’s help replays the same after the journal moved on', () => {
    const w = world();
    const staged = programmeWithActiveStages(w.engine, w.actors, ['training']);
    recordJournalEntry(w.engine, w.store, w.actors.coordinator, staged.programmeId, {
      kind: 'training',
      fields: { date: '2027-02-20', topic: 'Подготовка заявки', format: 'online', municipalityIds: [w.home], participants: 12 },
    });
    for (const task of ['local-government', 'initiative-groups']) staged.send(2, 'complete-task', { task });
    staged.send(2, 'complete');
    // Stage 2 is over, so no training can be recorded any more, yet its completion replays from the facts it stored.
    expect(() => sendStageEvent(w.engine, w.actors.coordinator, staged.programmeId, 2, 'reopen', { reason: 'Проверка' }, staged.versions.get(2)!)).not.toThrow();
    expect(replayStoredStream(w.db, registry, w.engine.loadStream(`stage-${staged.programmeId}-2`)!).problems).toEqual([]);
  });
});

describe('the stage machine’s versions and the journal', () => {
  it('a stage 1 completed under version 1 without an announcement replays as it was; reopened under version 2 it waits for the journal', () => {
    const w = world();
    // The installation before the journal: version 1 of the stage machine, with its own exits, is current.
    const old = workflowEngine(w.db, { registry: defaultRegistry().register(stageV1, { current: true }), now: () => w.engine.now() });
    const programmeId = createProgramme(old, w.actors.admin, programmeInput, yearPlan(2027)).id;
    let version = 1;
    const send = (engine: typeof old, type: string, payload: unknown = {}) => (version = sendStageEvent(engine, w.actors.coordinator, programmeId, 1, type, payload, version).version);
    send(old, 'start');
    for (const task of ['parameters', 'plan', 'campaign', 'announcement']) send(old, 'complete-task', { task });
    send(old, 'complete');
    const streamId = `stage-${programmeId}-1`;
    expect(w.engine.loadStream(streamId)).toMatchObject({ state: 'completed', machineVersion: 1 });

    // The upgrade: the same database, the current registry. Reopening moves the stage to version 2, whose exit reads the journal.
    send(w.engine, 'reopen', { reason: 'Объявление не было опубликовано' });
    expect((catchError(() => send(w.engine, 'complete')) as NotAllowedError).reason).toBe('stage.exit.no-announcement');
    recordJournalEntry(w.engine, w.store, w.actors.coordinator, programmeId, { kind: 'announcement', fields: { channel: 'site', date: '2027-04-10', title: 'Объявлен конкурсный отбор', link: 'https://example.org/konkurs' } });
    send(w.engine, 'complete');
    const rows = loadStreamEvents(w.db, streamId);
    expect(rows.map((row) => [row.type, row.machineVersion])).toEqual([
      ['create', 1],
      ['start', 1],
      ['complete-task', 1],
      ['complete-task', 1],
      ['complete-task', 1],
      ['complete-task', 1],
      ['complete', 1],
      ['reopen', stageMachineVersion],
      ['complete', stageMachineVersion],
    ]);
    // The v1 completion read an empty journal and went through on v1's own exits, and replays so; the v2 one carries what it read.
    expect(JSON.parse(rows[6]!.facts).exit.journal).toEqual({ byKind: {}, byMunicipality: {} });
    expect(JSON.parse(rows[8]!.facts).exit.journal.byKind).toEqual({ announcement: 1 });
    expect(replayStoredStream(w.db, registry, w.engine.loadStream(streamId)!).problems).toEqual([]);
    expect(verifyLedger(w.db, registry).problems).toEqual([]);
  });
});

function loadCount(db: Db): number {
  return db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
}

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

