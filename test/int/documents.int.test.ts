import { fstatSync, fsyncSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { insertUser } from '../../src/accounts/users.ts';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/db/client.ts';
import { municipalities, users } from '../../src/db/schema.ts';
import type { ApplicationForm } from '../../src/domain/application.ts';
import { defaultDocumentRules, type DocumentKind, type DocumentRule } from '../../src/domain/documents.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ConflictError, ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from '../../src/engine/errors.ts';
import { loadStreamEvents } from '../../src/engine/replay.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { completeForm, programmeWithActiveStages } from './fixtures.ts';
import { filesUnder, samples, sha256, streamOf } from './document-samples.ts';
import { createApplication, sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { findApplication } from '../../src/workflows/application/reads.ts';
import { documentRequirementReads, saveDocumentRequirement } from '../../src/workflows/documents/requirements.ts';
import { DocumentStore } from '../../src/workflows/documents/store.ts';
import { attachDocumentBytes, attachUploadedDocument, findApplicationFile } from '../../src/workflows/documents/upload.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { installWorkflows } from '../../src/workflows/index.ts';
import { applicationOptions, loadApplication, allowedEventTypes } from '../../src/workflows/application/reads.ts';

/**
 * Documents through the engine and the document store (issue 7): what a refused upload leaves
 * (nothing, on disk or in the log), what an accepted one records, and how the documents gate
 * `submit` and `accept`.
 */

const requiredKinds = defaultDocumentRules.filter((rule) => rule.required).map((rule) => rule.kind);

interface World {
  db: Db;
  engine: Engine;
  store: DocumentStore;
  programmeId: number;
  actors: Record<Role, Actor> & { foreignApplicant: Actor };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function world(rules: readonly DocumentRule[] = defaultDocumentRules): World {
  const db = openDb({ path: ':memory:', synchronous: 'OFF' });
  const dir = mkdtempSync(join(tmpdir(), 'isu-ib-documents-test-'));
  cleanups.push(() => {
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const createdAt = '2027-01-10T08:00:00.000Z';
  const [home, away] = [
    { name: 'Якшур-Бодьинский район', kind: 'district', population: 21_000 },
    { name: 'город Сарапул', kind: 'city-okrug', population: 94_000 },
  ].map((m) => db.insert(municipalities).values(m).returning().get().id) as [number, number];
  const user = (login: string, role: Role, municipalityId: number | null = null): Actor => {
    const row = insertUser(db, { login, name: login, role, municipalityId, passwordHash: 'not-a-hash', createdAt }, null);
    return { id: row.id, login, name: login, role, municipalityId };
  };
  const actors = {
    applicant: user('applicant1', 'applicant', home),
    foreignApplicant: user('applicant2', 'applicant', away),
    reviewer: user('reviewer1', 'reviewer'),
    coordinator: user('coordinator1', 'coordinator'),
    commission: user('commission1', 'commission'),
    auditor: user('auditor1', 'auditor'),
    admin: user('admin1', 'admin'),
  };
  let t = Date.parse('2027-04-01T06:00:00.000Z');
  const engine = new Engine(db, { now: () => new Date((t += 60_000)) });
  installWorkflows(engine);
  const staged = programmeWithActiveStages(engine, actors, ['documentation', 'intake'], { documentRules: rules });
  return { db, engine, store: new DocumentStore(dir), programmeId: staged.programmeId, actors };
}

const eventCount = (w: World) => w.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;

function draft(w: World, form: ApplicationForm = completeForm) {
  return createApplication(w.engine, w.actors.applicant, { programmeId: w.programmeId, form }).id;
}

const versionOf = (w: World, id: number) => findApplication(w.engine.db, w.actors.auditor, id).version;

/** A valid file for each kind: PDFs, and a PNG for the photos. */
function fileFor(kind: DocumentKind, revision = 1): { name: string; bytes: Buffer } {
  return kind === 'object-photos' ? { name: `фото ${revision}.png`, bytes: samples.png(revision) } : { name: `${kind} ${revision}.pdf`, bytes: samples.pdf(`${kind} ${revision}`) };
}

function attachAll(w: World, id: number, kinds: readonly DocumentKind[] = requiredKinds) {
  for (const kind of kinds) {
    const file = fileFor(kind);
    attachDocumentBytes(w.engine, w.store, w.actors.applicant, id, kind, file.name, file.bytes, versionOf(w, id));
  }
}

const upload = (w: World, id: number, kind: string, name: string, bytes: Buffer, expectedVersion?: number) =>
  attachUploadedDocument(w.engine, w.store, w.actors.applicant, id, { kind, fileName: name, source: streamOf(bytes), expectedVersion });

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('an upload that is refused leaves nothing on disk and nothing in the log', () => {
  const cases: [string, DocumentKind, string, () => Buffer, string][] = [
    ['a PNG where only PDF is accepted (a forbidden type)', 'meeting-minutes', 'протокол.png', () => samples.png(), 'document-type-not-accepted'],
    ['a spreadsheet where only PDF is accepted', 'budget-extract', 'выписка.xlsx', samples.xlsx, 'document-type-not-accepted'],
    ['a PNG that calls itself a PDF (lying about its type)', 'attendance-sheet', 'лист регистрации.pdf', () => samples.png(), 'document-type-mismatch'],
    ['a PDF that calls itself a photo', 'object-photos', 'фото.jpg', () => samples.pdf(), 'document-type-not-accepted'],
    ['an HTML page that calls itself a PDF', 'meeting-minutes', 'протокол.pdf', samples.html, 'document-type-unknown'],
    ['an SVG that calls itself a PNG', 'object-photos', 'фото.png', samples.svg, 'document-type-unknown'],
    ['a program that calls itself a JPEG', 'object-photos', 'фото.jpg', samples.exe, 'document-type-unknown'],
    ['a PDF cut short (no %%EOF)', 'meeting-minutes', 'протокол.pdf', () => samples.pdf().subarray(0, 200), 'document-type-unknown'],
    ['an empty file', 'meeting-minutes', 'протокол.pdf', () => Buffer.alloc(0), 'document-empty'],
  ];

  it.each(cases)('%s', async (_name, kind, fileName, bytes, code) => {
    const w = world();
    const id = draft(w);
    const before = eventCount(w);
    const error = await refusal(upload(w, id, kind, fileName, bytes()));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.code)).toEqual([code]);
    expect(eventCount(w)).toBe(before);
    expect(filesUnder(w.store.root)).toEqual([]);
    expect(loadApplication(w.engine, w.actors.auditor, id).context.documents).toBeUndefined();
  });

  it('a file over its kind’s size limit, even by one byte, streamed in chunks', async () => {
    const pdf = samples.pdf();
    const w = world(defaultDocumentRules.map((rule) => (rule.kind === 'meeting-minutes' ? { ...rule, maxBytes: pdf.length - 1 } : rule)));
    const id = draft(w);
    const before = eventCount(w);
    const error = await refusal(upload(w, id, 'meeting-minutes', 'протокол.pdf', pdf));
    expect((error as ValidationError).problems).toEqual([{ field: 'file', code: 'document-too-large', params: { max: pdf.length - 1 } }]);
    expect(eventCount(w)).toBe(before);
    expect(filesUnder(w.store.root)).toEqual([]);
    // At the limit exactly, it is taken.
    const w2 = world(defaultDocumentRules.map((rule) => (rule.kind === 'meeting-minutes' ? { ...rule, maxBytes: pdf.length } : rule)));
    const applied = await upload(w2, draft(w2), 'meeting-minutes', 'протокол.pdf', pdf);
    expect(JSON.parse(applied.event.payload).size).toBe(pdf.length);
  });

  it('a kind the programme does not ask for, a closed state, another municipality, a role that may not: nothing is read or kept', async () => {
    const w = world();
    const id = draft(w);
    const before = eventCount(w);
    expect(await refusal(upload(w, id, 'design-documentation', 'проект.pdf', samples.pdf()))).toBeInstanceOf(ValidationError);
    expect(await refusal(upload(w, id, 'no-such-kind', 'x.pdf', samples.pdf()))).toBeInstanceOf(ValidationError);
    const foreign = attachUploadedDocument(w.engine, w.store, w.actors.foreignApplicant, id, { kind: 'meeting-minutes', fileName: 'x.pdf', source: streamOf(samples.pdf()) });
    expect(await refusal(foreign)).toBeInstanceOf(NotFoundError);
    const reviewer = attachUploadedDocument(w.engine, w.store, w.actors.reviewer, id, { kind: 'meeting-minutes', fileName: 'x.pdf', source: streamOf(samples.pdf()) });
    expect(await refusal(reviewer)).toBeInstanceOf(ForbiddenError);
    attachAll(w, id);
    sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
    const afterSubmit = eventCount(w);
    const files = filesUnder(w.store.root).sort();
    // Submitted: the state takes no documents until it is returned.
    expect(await refusal(upload(w, id, 'meeting-minutes', 'новый.pdf', samples.pdf('новый')))).toBeInstanceOf(NotAllowedError);
    expect(eventCount(w)).toBe(afterSubmit);
    expect(filesUnder(w.store.root).sort()).toEqual(files);
    expect(before).toBeLessThan(afterSubmit);
  });

  it('a stale version: the event is refused after the file was stored, and the file is taken back', async () => {
    const w = world();
    const id = draft(w);
    const stale = versionOf(w, id);
    sendApplicationEvent(w.engine, w.actors.applicant, id, 'update', { beneficiaries: 1000 }, stale);
    const before = eventCount(w);
    expect(await refusal(upload(w, id, 'meeting-minutes', 'протокол.pdf', samples.pdf(), stale))).toBeInstanceOf(ConflictError);
    expect(eventCount(w)).toBe(before);
    expect(filesUnder(w.store.root)).toEqual([]);
  });

  it('attach-document cannot be sent as a plain event: it would name a file nobody stored', () => {
    const w = world();
    const id = draft(w);
    const before = eventCount(w);
    const payload = { kind: 'meeting-minutes', name: 'x.pdf', size: 10, mediaType: 'application/pdf', sha256: 'a'.repeat(64) };
    expect(() => sendApplicationEvent(w.engine, w.actors.applicant, id, 'attach-document', payload, versionOf(w, id))).toThrow(NotAllowedError);
    expect(() => sendApplicationEvent(w.engine, w.actors.reviewer, id, 'attach-document', payload, versionOf(w, id))).toThrow(ForbiddenError);
    expect(() => sendApplicationEvent(w.engine, w.actors.foreignApplicant, id, 'attach-document', payload, versionOf(w, id))).toThrow(NotFoundError);
    expect(eventCount(w)).toBe(before);
  });
});

describe('an accepted upload', () => {
  it('is stored under its SHA-256, and the event records that hash, its size, its real type and its name', async () => {
    const w = world();
    const id = draft(w);
    const bytes = samples.pdf('Протокол собрания жителей с. Якшур-Бодья');
    const applied = await upload(w, id, 'meeting-minutes', 'C:\\Users\\anna\\Протокол собрания.PDF', bytes);
    const payload = JSON.parse(applied.event.payload) as Record<string, unknown>;
    expect(payload).toEqual({ kind: 'meeting-minutes', name: 'Протокол собрания.PDF', size: bytes.length, mediaType: 'application/pdf', sha256: sha256(bytes) });
    const stored = readFileSync(w.store.pathOf(payload.sha256 as string));
    expect(sha256(stored)).toBe(payload.sha256);
    expect(stored.equals(bytes)).toBe(true);
    expect(filesUnder(w.store.root)).toEqual([w.store.pathOf(sha256(bytes))]);
    // The facts say what the programme accepted at that moment.
    expect(JSON.parse(applied.event.facts).documentRules.map((rule: DocumentRule) => rule.kind)).toEqual(defaultDocumentRules.map((rule) => rule.kind));
    expect(applied.snapshot.context.documents['meeting-minutes']).toMatchObject({ verdict: 'pending', file: { sha256: sha256(bytes), size: bytes.length } });
  });

  it('is replaced by another attach-document; both files stay, the log names both, the verdict starts again', async () => {
    const w = world();
    const id = draft(w);
    const first = samples.png(1);
    const second = samples.png(2);
    await upload(w, id, 'object-photos', 'фото.png', first);
    const replaced = await upload(w, id, 'object-photos', 'фото сбоку.png', second, versionOf(w, id));
    expect(replaced.snapshot.context.documents['object-photos'].file).toMatchObject({ name: 'фото сбоку.png', sha256: sha256(second) });
    const attached = loadStreamEvents(w.db, `application-${id}`).filter((e) => e.type === 'attach-document').map((e) => JSON.parse(e.payload).sha256);
    expect(attached).toEqual([sha256(first), sha256(second)]);
    expect(w.store.has(sha256(first)) && w.store.has(sha256(second))).toBe(true);
    // The earlier file stays reachable for the audit through its own event.
    expect(findApplicationFile(w.engine, w.actors.auditor, id, sha256(first))).toMatchObject({ kind: 'object-photos', name: 'фото.png' });
    expect(() => findApplicationFile(w.engine, w.actors.foreignApplicant, id, sha256(first))).toThrow(NotFoundError);
    expect(() => findApplicationFile(w.engine, w.actors.auditor, id, sha256(samples.png(3)))).toThrow(NotFoundError);
  });

  it('an identical file is stored once and stays when a second event naming it is refused', async () => {
    const w = world();
    const a = draft(w);
    const b = draft(w);
    const bytes = samples.pdf('один и тот же протокол');
    await upload(w, a, 'meeting-minutes', 'протокол.pdf', bytes);
    expect(await refusal(upload(w, b, 'meeting-minutes', 'протокол.pdf', bytes, 99))).toBeInstanceOf(ConflictError);
    expect(w.store.has(sha256(bytes))).toBe(true);
    await upload(w, b, 'meeting-minutes', 'протокол.pdf', bytes);
    expect(filesUnder(w.store.root)).toHaveLength(1);
  });
});

describe('documents gate submit and accept', () => {
  it('a missing required document blocks submit, naming each one; attached, it goes through with the kinds in its facts', () => {
    const w = world();
    const id = draft(w);
    attachAll(w, id, requiredKinds.filter((kind) => kind !== 'budget-extract' && kind !== 'object-photos'));
    const before = eventCount(w);
    let error: unknown;
    try {
      sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      { field: 'document.budget-extract', code: 'document-missing', params: { kind: 'budget-extract' } },
      { field: 'document.object-photos', code: 'document-missing', params: { kind: 'object-photos' } },
    ]);
    expect(eventCount(w)).toBe(before);
    attachAll(w, id, ['budget-extract', 'object-photos']);
    const submitted = sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
    expect(submitted.state).toBe('submitted');
    expect(JSON.parse(submitted.event.facts).requiredDocuments).toEqual(requiredKinds);
  });

  it('form problems and missing documents are named together', () => {
    const w = world();
    const { description: _d, ...partial } = completeForm;
    const id = draft(w, partial);
    attachAll(w, id, requiredKinds.slice(1));
    try {
      sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
      throw new Error('submitted');
    } catch (error) {
      expect((error as ValidationError).problems.map((p) => `${p.field}:${p.code}`)).toEqual(['description:required', 'document.meeting-minutes:document-missing']);
    }
  });

  it('an unaccepted required document blocks accept; the reviewer’s checklist opens it, and a remark returns it with the remark carried', async () => {
    const w = world();
    const id = draft(w);
    attachAll(w, id);
    sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
    sendApplicationEvent(w.engine, w.actors.reviewer, id, 'start-review', {}, versionOf(w, id));
    const row = () => findApplication(w.engine.db, w.actors.reviewer, id);
    expect(applicationOptions(w.engine, w.actors.reviewer, w.engine.loadStream(row().streamId)!).documents.map((option) => option.type)).toEqual(['review-document']);
    expect(allowedEventTypes(applicationOptions(w.engine, w.actors.reviewer, w.engine.loadStream(row().streamId)!))).not.toContain('review-document');
    const review = (kind: DocumentKind, verdict: 'accepted' | 'remark', remark?: string) =>
      sendApplicationEvent(w.engine, w.actors.reviewer, id, 'review-document', remark ? { kind, verdict, remark } : { kind, verdict }, versionOf(w, id));
    for (const kind of requiredKinds.slice(0, -1)) review(kind, 'accepted');
    const before = eventCount(w);
    const accept = () => sendApplicationEvent(w.engine, w.actors.reviewer, id, 'accept', {}, versionOf(w, id));
    expect(accept).toThrow(ValidationError);
    try {
      accept();
    } catch (error) {
      expect((error as ValidationError).problems).toEqual([{ field: 'document.object-photos', code: 'document-not-accepted', params: { kind: 'object-photos' } }]);
    }
    expect(eventCount(w)).toBe(before);

    // A remark on the photos; the return needs no words of its own, and carries the remark.
    review('object-photos', 'remark', 'Фото не того объекта.');
    const returned = sendApplicationEvent(w.engine, w.actors.reviewer, id, 'return-for-revision', {}, versionOf(w, id));
    expect(returned.state).toBe('returned');
    expect(loadApplication(w.engine, w.actors.auditor, row().id).context.remarks).toEqual([{ field: 'document.object-photos', text: 'Фото не того объекта.' }]);

    // The applicant replaces the photo and resubmits; the review accepts it, and the application.
    await upload(w, id, 'object-photos', 'верное фото.png', samples.png(9), versionOf(w, id));
    sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
    sendApplicationEvent(w.engine, w.actors.reviewer, id, 'start-review', {}, versionOf(w, id));
    expect(accept).toThrow(ValidationError);
    review('object-photos', 'accepted');
    expect(accept().state).toBe('accepted');
    expect(verifyLedger(w.db, defaultRegistry())).toMatchObject({ ok: true, problems: [] });
  });

  it('a return with neither remarks nor document remarks is refused, naming the remarks', () => {
    const w = world([]);
    const id = draft(w);
    sendApplicationEvent(w.engine, w.actors.applicant, id, 'submit', {}, versionOf(w, id));
    sendApplicationEvent(w.engine, w.actors.reviewer, id, 'start-review', {}, versionOf(w, id));
    try {
      sendApplicationEvent(w.engine, w.actors.reviewer, id, 'return-for-revision', {}, versionOf(w, id));
      throw new Error('returned');
    } catch (error) {
      expect((error as ValidationError).problems).toEqual([{ field: 'remarks', code: 'remarks-required' }]);
    }
  });

  it('a requirement for one project type overrides the default for it only', () => {
    const w = world();
    saveDocumentRequirement(w.engine, w.actors.admin, w.programmeId, { projectType: 'roads', kind: 'budget-extract', required: false, fileTypes: ['pdf'], maxBytes: 1024 * 1024 });
    expect(() => saveDocumentRequirement(w.engine, w.actors.reviewer, w.programmeId, { projectType: 'roads', kind: 'budget-extract', required: false, fileTypes: ['pdf'], maxBytes: 1024 * 1024 })).toThrow(ForbiddenError);
    const reads = documentRequirementReads(w.db);
    expect(reads.rulesFor(w.programmeId, 'roads').find((r) => r.kind === 'budget-extract')?.required).toBe(false);
    expect(reads.rulesFor(w.programmeId, 'culture').find((r) => r.kind === 'budget-extract')?.required).toBe(true);
    const roads = draft(w);
    attachAll(w, roads, requiredKinds.filter((kind) => kind !== 'budget-extract'));
    const submitted = sendApplicationEvent(w.engine, w.actors.applicant, roads, 'submit', {}, versionOf(w, roads));
    expect(JSON.parse(submitted.event.facts).requiredDocuments).not.toContain('budget-extract');
    const culture = draft(w, { ...completeForm, projectType: 'culture' });
    attachAll(w, culture, requiredKinds.filter((kind) => kind !== 'budget-extract'));
    expect(() => sendApplicationEvent(w.engine, w.actors.applicant, culture, 'submit', {}, versionOf(w, culture))).toThrow(ValidationError);
  });
});

describe('durability of the files (issue 17)', () => {
  it('flushes the file and its folder to the disk before the attach-document event commits', () => {
    const w = world();
    const id = draft(w);
    const synced: { ino: number; eventsThen: number }[] = [];
    const watched = new DocumentStore(w.store.root, (fd) => {
      synced.push({ ino: fstatSync(fd).ino, eventsThen: eventCount(w) });
      fsyncSync(fd);
    });
    const before = eventCount(w);
    const file = fileFor('meeting-minutes');
    attachDocumentBytes(w.engine, watched, w.actors.applicant, id, 'meeting-minutes', file.name, file.bytes, versionOf(w, id));
    expect(eventCount(w)).toBe(before + 1);
    const stored = watched.pathOf(sha256(file.bytes));
    const inodes = synced.map((call) => call.ino);
    expect(inodes).toContain(statSync(stored).ino);
    expect(inodes).toContain(statSync(dirname(stored)).ino);
    // The folder was new: the root that names it is flushed too.
    expect(inodes).toContain(statSync(watched.root).ino);
    expect(synced.every((call) => call.eventsThen === before)).toBe(true);
  });

  it('removes at start what cut uploads left in tmp/, and nothing else', () => {
    const w = world();
    const id = draft(w);
    const file = fileFor('meeting-minutes');
    attachDocumentBytes(w.engine, w.store, w.actors.applicant, id, 'meeting-minutes', file.name, file.bytes, versionOf(w, id));
    const tmp = join(w.store.root, 'tmp');
    writeFileSync(join(tmp, 'cut-short-upload'), Buffer.alloc(1000, 1));
    writeFileSync(join(tmp, 'another'), 'x');
    expect(w.store.removeLeftovers()).toBe(2);
    expect(readdirSync(tmp)).toEqual([]);
    expect(w.store.has(sha256(file.bytes))).toBe(true);
    expect(new DocumentStore(join(w.store.root, 'nowhere')).removeLeftovers()).toBe(0);
  });
});
