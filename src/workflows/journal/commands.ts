import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { cleanFileName, fileTypes, sniffFileType, uploadProblems, type DocumentKind } from '../../domain/documents.ts';
import { isJournalKind, journalDocumentRoles, journalDocumentRules, journalKindDocuments, journalKinds, type JournalDocumentRole, type JournalKind } from '../../domain/journal.ts';
import { isBlocking, type FieldProblem, type Problem } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { refusal, type AppliedEvent, type Engine } from '../../engine/engine.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { journalCreateRoles, journalMachineId, whyNotCreateJournal, type JournalCreateFacts } from '../../../machines/journal.ts';
import { attachUploadedDocument } from '../documents/upload.ts';
import { findApplication } from '../application/reads.ts';
import type { DocumentStore, ReceivedFile } from '../documents/store.ts';
import { stageReads } from '../stage/reads.ts';
import { journalReads, journalStreamId, loadJournalEntry } from './reads.ts';

/** A file that came with an entry, already streamed to the store's temporary folder. */
export interface JournalUpload {
  role: unknown;
  fileName: string;
  received: ReceivedFile;
}

export interface JournalRecord {
  kind: unknown;
  fields: unknown;
  /** The entry this one corrects. */
  supersedes?: number | null;
}

/** The field a document's problems stand beside on the form. */
export const documentFieldOf = (role: string) => `document.${role}`;

/** What the entry's rules read at this moment: the active stages, the application, the municipalities, the entry it corrects. */
function createFacts(engine: Engine, programmeId: number, fields: Record<string, unknown>, supersedes: number | null): JournalCreateFacts {
  const sqlite = engine.db.$client;
  const named = [...(typeof fields.municipalityId === 'number' ? [fields.municipalityId] : []), ...(Array.isArray(fields.municipalityIds) ? fields.municipalityIds.filter((id): id is number => typeof id === 'number') : [])];
  const known = named.length === 0 ? [] : sqlite.prepare<number[], { id: number }>(`SELECT id FROM municipalities WHERE id IN (${named.map(() => '?').join(', ')})`).all(...named).map((row) => row.id);
  const application =
    typeof fields.applicationId === 'number'
      ? (sqlite
          .prepare<[number], { id: number; programmeId: number; municipalityId: number; state: string }>('SELECT id, programme_id AS programmeId, municipality_id AS municipalityId, state FROM applications WHERE id = ?')
          .get(fields.applicationId) ?? null)
      : undefined;
  const old = supersedes === null ? undefined : journalReads(engine.db).byId(supersedes);
  return {
    activeStages: stageReads(engine.db).activeStageKeys(programmeId),
    ...(application !== undefined ? { application } : {}),
    knownMunicipalities: [...new Set(known)].sort((a, b) => a - b),
    ...(supersedes !== null ? { superseded: old ? { id: old.id, programmeId: old.programmeId, kind: old.kind, state: old.state } : null } : {}),
    now: engine.now().toISOString(),
  };
}

/** Judges each file against its role's rule (by its bytes, not its name); the problems stand beside `document.<role>`. */
function fileProblems(kind: JournalKind, files: readonly JournalUpload[]): { problems: FieldProblem[]; judged: { role: JournalDocumentRole; name: string; received: ReceivedFile; mediaType: string }[] } {
  const problems: FieldProblem[] = [];
  const judged: { role: JournalDocumentRole; name: string; received: ReceivedFile; mediaType: string }[] = [];
  for (const file of files) {
    const role = typeof file.role === 'string' && (journalDocumentRoles as readonly string[]).includes(file.role) ? (file.role as JournalDocumentRole) : null;
    if (!role || !journalKindDocuments[kind].includes(role)) {
      problems.push({ field: documentFieldOf(String(file.role)), code: 'journal.problem.document-role' });
      continue;
    }
    const rule = { kind: 'other' as DocumentKind, required: false, ...journalDocumentRules[role] };
    const name = cleanFileName(file.fileName);
    const sniffed = file.received.tooLarge ? null : sniffFileType(file.received.head, file.received.tail);
    const found = uploadProblems(rule, { name, size: file.received.size, sniffed, tooLarge: file.received.tooLarge });
    if (found.length > 0 || sniffed === null) problems.push(...found.map((p) => ({ ...p, field: documentFieldOf(role) })));
    else judged.push({ role, name, received: file.received, mediaType: fileTypes[sniffed].mediaType });
  }
  return { problems, judged };
}

/**
 * Records a journal entry with its documents (issue 14), in one transaction through the one write
 * path: the entry's `create`, one `attach-document` per file, and — for a correction — the old
 * entry's documents carried over and its `supersede`. Every problem is said at once (the fields,
 * the files), and a refusal keeps no file and writes nothing.
 */
export function recordJournalEntry(engine: Engine, store: DocumentStore, actor: Actor, programmeId: number, record: JournalRecord, files: readonly JournalUpload[] = []): AppliedEvent & { id: number } {
  const discardAll = () => files.forEach((file) => store.discard(file.received));
  if (!journalCreateRoles.includes(actor.role)) {
    discardAll();
    throw new ForbiddenError(`the role ${actor.role} may not keep the journal`);
  }
  const sqlite = engine.db.$client;
  if (!sqlite.prepare('SELECT 1 FROM programmes WHERE id = ?').get(programmeId)) {
    discardAll();
    throw new NotFoundError(`programme ${programmeId} not found`);
  }
  const fields = record.fields !== null && typeof record.fields === 'object' && !Array.isArray(record.fields) ? (record.fields as Record<string, unknown>) : {};
  const supersedes = typeof record.supersedes === 'number' ? record.supersedes : null;
  const input = { programmeId, kind: record.kind, fields, supersedes };
  const facts = createFacts(engine, programmeId, fields, supersedes);
  const problems: Problem[] = whyNotCreateJournal(input, facts, actor);
  const { problems: onFiles, judged } = isJournalKind(record.kind) ? fileProblems(record.kind, files) : { problems: [], judged: [] };
  if (problems.some(isBlocking) || problems.length + onFiles.length > 0) {
    discardAll();
    throw problems.some(isBlocking) ? refusal('create', problems) : new ValidationError('the journal entry is invalid', [...(problems as FieldProblem[]), ...onFiles]);
  }
  const kept = judged.map((file) => ({ ...file, kept: store.keep(file.received) }));
  try {
    return engine.transaction(() => {
      const id = sqlite.prepare<[], { id: number }>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM journal_entries').get()!.id;
      const streamId = journalStreamId(id);
      let applied = engine.create({ streamId, kind: 'journal', machineId: journalMachineId, input, actor, facts: { ...facts } });
      let version = applied.version;
      const attach = (payload: { role: string; name: string; size: number; mediaType: string; sha256: string }) => {
        applied = engine.apply(streamId, { type: 'attach-document', payload }, version, actor, { channel: 'upload' });
        version = applied.version;
      };
      for (const file of kept) attach({ role: file.role, name: file.name, size: file.received.size, mediaType: file.mediaType, sha256: file.kept.sha256 });
      if (supersedes !== null) {
        const old = loadJournalEntry(engine, actor, supersedes, programmeId);
        // A correction keeps the documents of the entry it corrects, except the roles it brings anew.
        for (const document of old.context.documents.filter((d) => !kept.some((file) => file.role === d.role))) {
          const { attachedAt: _at, ...payload } = document;
          attach(payload);
        }
        engine.apply(old.stream.id, { type: 'supersede', payload: { by: id } }, old.stream.version, actor, { channel: 'correction' });
      }
      return { ...applied, id };
    });
  } catch (error) {
    for (const file of kept) if (file.kept.created && !isNamed(engine, file.kept.sha256)) store.forget(file.kept.sha256);
    throw error;
  }
}

/** Whether any event names this stored file. */
function isNamed(engine: Engine, sha256: string): boolean {
  return engine.db.$client.prepare<[string], { n: number }>("SELECT count(*) AS n FROM events WHERE type = 'attach-document' AND json_extract(payload, '$.sha256') = ?").get(sha256)!.n > 0;
}

/** Adds one document to a recorded entry (minutes often come after the meeting). */
export function attachJournalDocument(engine: Engine, store: DocumentStore, actor: Actor, entryId: number, upload: JournalUpload, expectedVersion?: number): AppliedEvent {
  let entry;
  try {
    entry = loadJournalEntry(engine, actor, entryId);
    engine.check(entry.stream.id, 'attach-document', actor, expectedVersion);
  } catch (error) {
    store.discard(upload.received);
    throw error;
  }
  const { problems, judged } = fileProblems(entry.context.kind, [upload]);
  if (problems.length > 0 || !judged[0]) {
    store.discard(upload.received);
    throw new ValidationError('the file is refused', problems);
  }
  const file = judged[0];
  const kept = store.keep(file.received);
  try {
    const payload = { role: file.role, name: file.name, size: file.received.size, mediaType: file.mediaType, sha256: kept.sha256 };
    return engine.apply(entry.stream.id, { type: 'attach-document', payload }, expectedVersion ?? engine.loadStream(entry.stream.id)!.version, actor, { channel: 'upload' });
  } catch (error) {
    if (kept.created && !isNamed(engine, kept.sha256)) store.forget(kept.sha256);
    throw error;
  }
}

/** Links a final meeting to the application it produced. */
export function linkJournalApplication(engine: Engine, actor: Actor, entryId: number, applicationId: unknown, expectedVersion: number): AppliedEvent {
  const entry = loadJournalEntry(engine, actor, entryId);
  return engine.apply(entry.stream.id, { type: 'link-application', payload: { applicationId } }, expectedVersion, actor);
}

/** The journal's documents that an application may take as its own, by the journal's role. */
export const takeableDocuments: Partial<Record<JournalDocumentRole, DocumentKind>> = { minutes: 'meeting-minutes', 'attendance-sheet': 'attendance-sheet' };

/** A stored file of an entry the actor may see, by its hash. */
export function findJournalFile(engine: Engine, actor: Actor, entryId: number, sha256: string) {
  const entry = loadJournalEntry(engine, actor, entryId);
  const document = entry.context.documents.find((d) => d.sha256 === sha256);
  if (!document) throw new NotFoundError();
  return { entry, document };
}

/**
 * The applicant takes the minutes (or the attendance sheet) of the final meeting linked to their
 * application as the application's own document: the stored file goes through the normal attach
 * path — the application's rules, the programme's rule for the kind, the type read from its bytes.
 */
export async function takeJournalDocument(engine: Engine, store: DocumentStore, actor: Actor, applicationId: number, entryId: number, sha256: string, expectedVersion?: number): Promise<AppliedEvent> {
  // An application the actor may not see is not found, whatever the entry.
  findApplication(engine.db, actor, applicationId);
  const { entry, document } = findJournalFile(engine, actor, entryId, sha256);
  if (entry.row.state !== 'recorded' || entry.context.applicationId !== applicationId) throw new ValidationError('the entry is not about this application', [{ field: 'entry', code: 'journal.problem.not-this-application' }]);
  const kind = takeableDocuments[document.role];
  if (!kind) throw new ValidationError('this document cannot be taken', [{ field: 'entry', code: 'journal.problem.document-role' }]);
  if (!store.has(document.sha256)) throw new NotFoundError('the file is not in the document store');
  const source: Readable = createReadStream(store.pathOf(document.sha256));
  return attachUploadedDocument(engine, store, actor, applicationId, { kind, fileName: document.name, source, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
}

/** Each kind of entry with whether the actor may record it now, and why not (the same rules as recording asks). */
export function journalRecordOptions(engine: Engine, actor: Actor, programmeId: number): { kind: JournalKind; open: boolean; problems: Problem[] }[] {
  const activeStages = stageReads(engine.db).activeStageKeys(programmeId);
  return journalKinds.map((kind) => {
    const problems = whyNotCreateJournal({ kind, programmeId }, { activeStages }, actor);
    return { kind, open: !problems.some(isBlocking), problems };
  });
}
