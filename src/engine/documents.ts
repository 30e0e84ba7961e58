import type { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { events } from '../db/schema.ts';
import {
  cleanFileName,
  documentKinds,
  fileTypes,
  sniffFileType,
  uploadProblems,
  type DocumentKind,
  type DocumentRule,
  type DocumentSet,
} from '../domain/documents.ts';
import type { Actor } from '../domain/roles.ts';
import { applicationEventRoles } from '../../machines/application.ts';
import { allowedDocumentEvents, applicationContext, applicationStreamId, findApplication, type ApplicationRow } from './applications.ts';
import { documentRequirementReads } from './document-requirements.ts';
import type { DocumentStore, ReceivedFile } from './document-store.ts';
import type { AppliedEvent, Engine } from './engine.ts';
import { ConflictError, ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from './errors.ts';
import { assertStageOpen, stageReads } from './stages.ts';

/** One row of an application's documents: what the programme asks, what is there, what the reviewer said. */
export interface DocumentRow {
  kind: DocumentKind;
  rule: DocumentRule | null;
  entry: DocumentSet[DocumentKind] | null;
}

/** The programme's kinds for this application, then any other kind that has a file or a verdict. */
export function applicationDocuments(engine: Engine, row: ApplicationRow): { rows: DocumentRow[]; rules: DocumentRule[] } {
  const context = applicationContext(engine, row);
  const rules = documentRequirementReads(engine.db).rulesFor(row.programmeId, context.form.projectType);
  const documents = context.documents ?? {};
  const rows = documentKinds
    .filter((kind) => rules.some((rule) => rule.kind === kind) || documents[kind])
    .map((kind) => ({ kind, rule: rules.find((rule) => rule.kind === kind) ?? null, entry: documents[kind] ?? null }));
  return { rows, rules };
}

/** Refuses before a byte is read what the application would refuse anyway: role, stage, state, version. */
function assertMayAttach(engine: Engine, actor: Actor, row: ApplicationRow, expectedVersion: number | undefined): void {
  if (!applicationEventRoles['attach-document'].includes(actor.role)) throw new ForbiddenError(`the role ${actor.role} may not attach documents`);
  assertStageOpen('attach-document', stageReads(engine.db).activeStageKeys(row.programmeId));
  if (!allowedDocumentEvents(engine, actor, row).includes('attach-document')) {
    throw new NotAllowedError(`the state “${row.state}” does not take “attach-document”`, { state: row.state, type: 'attach-document' });
  }
  if (expectedVersion !== undefined && expectedVersion !== row.version) {
    throw new ConflictError(`the application changed: version ${row.version}, not ${expectedVersion}`, { state: row.state, version: row.version });
  }
}

export interface Upload {
  kind: unknown;
  /** The name the browser or the script gave the file. */
  fileName: string;
  source: Readable;
  /** The version the sender saw; without it the document is added to whatever the application is now. */
  expectedVersion?: number;
}

/** Reads the rest of a stream into nothing, so that the client gets its answer instead of a reset. */
async function drain(source: Readable): Promise<void> {
  source.resume();
  if (source.readableEnded || source.destroyed) return;
  await new Promise<void>((done) => {
    source.once('end', done);
    source.once('close', done);
    source.once('error', () => done());
  });
}

/**
 * Attaches an uploaded file (issue 7): the file streams to a temporary file while it is hashed
 * and measured; its type is sniffed from its bytes and must be one its kind accepts and the one
 * its name claims; only then is it moved to its content address and the `attach-document` event
 * written through the one write path. Any refusal deletes what was written and leaves the log as
 * it was.
 */
export async function attachUploadedDocument(engine: Engine, store: DocumentStore, actor: Actor, id: number, upload: Upload): Promise<AppliedEvent> {
  let rule: DocumentRule | undefined;
  let row: ApplicationRow;
  try {
    row = findApplication(engine, actor, id);
    assertMayAttach(engine, actor, row, upload.expectedVersion);
    const rules = documentRequirementReads(engine.db).rulesFor(row.programmeId, applicationContext(engine, row).form.projectType);
    rule = rules.find((candidate) => candidate.kind === upload.kind);
    if (!rule) throw new ValidationError('this application takes no document of that kind', [{ field: 'kind', code: 'document-kind-unknown' }]);
  } catch (error) {
    await drain(upload.source);
    throw error;
  }
  const received = await store.receive(upload.source, rule.maxBytes);
  return attachReceived(engine, store, actor, row, rule, cleanFileName(upload.fileName), received, upload.expectedVersion);
}

/** The same for a file already in memory: the demo's generated documents. */
export function attachDocumentBytes(engine: Engine, store: DocumentStore, actor: Actor, id: number, kind: DocumentKind, fileName: string, bytes: Buffer, expectedVersion?: number): AppliedEvent {
  const row = findApplication(engine, actor, id);
  assertMayAttach(engine, actor, row, expectedVersion);
  const rule = documentRequirementReads(engine.db).rulesFor(row.programmeId, applicationContext(engine, row).form.projectType).find((r) => r.kind === kind);
  if (!rule) throw new ValidationError('this application takes no document of that kind', [{ field: 'kind', code: 'document-kind-unknown' }]);
  if (bytes.length > rule.maxBytes) throw new ValidationError('the file is too large', [{ field: 'file', code: 'document-too-large', params: { max: rule.maxBytes } }]);
  return attachReceived(engine, store, actor, row, rule, cleanFileName(fileName), store.receiveBytes(bytes), expectedVersion);
}

function attachReceived(
  engine: Engine,
  store: DocumentStore,
  actor: Actor,
  row: ApplicationRow,
  rule: DocumentRule,
  name: string,
  received: ReceivedFile,
  expectedVersion: number | undefined,
): AppliedEvent {
  const sniffed = received.tooLarge ? null : sniffFileType(received.head, received.tail);
  const problems = uploadProblems(rule, { name, size: received.size, sniffed, tooLarge: received.tooLarge });
  if (problems.length > 0 || sniffed === null) {
    store.discard(received);
    throw new ValidationError('the file is refused', problems);
  }
  const kept = store.keep(received);
  const payload = { kind: rule.kind, name, size: received.size, mediaType: fileTypes[sniffed].mediaType, sha256: received.sha256 };
  const streamId = applicationStreamId(row.id);
  try {
    const version = expectedVersion ?? engine.loadStream(streamId)?.version ?? row.version;
    return engine.apply(streamId, { type: 'attach-document', payload }, version, actor, () => {
      findApplication(engine, actor, row.id);
    });
  } catch (error) {
    // The event was refused: a file this upload stored and no event names must not stay.
    if (kept.created && !isReferenced(engine, received.sha256)) store.forget(received.sha256);
    throw error;
  }
}

/** Whether any `attach-document` event names this file. */
export function isReferenced(engine: Engine, sha256: string): boolean {
  return (
    engine.db
      .select({ n: sql<number>`count(*)` })
      .from(events)
      .where(sql`${events.type} = 'attach-document' AND json_extract(${events.payload}, '$.sha256') = ${sha256}`)
      .get()!.n > 0
  );
}

/** A stored file of an application: one an `attach-document` event of that application names, with the name it was given. */
export interface StoredDocument {
  kind: DocumentKind;
  name: string;
  size: number;
  mediaType: string;
  sha256: string;
  seq: number;
  at: string;
}

/**
 * Finds a file by its hash among the application's own `attach-document` events (an earlier
 * version too, for the audit), after the actor was allowed to see the application.
 */
export function findApplicationFile(engine: Engine, actor: Actor, id: number, sha256: string): StoredDocument {
  const row = findApplication(engine, actor, id);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFoundError();
  const found = engine.db
    .select({ payload: events.payload, seq: events.seq, at: events.at })
    .from(events)
    .where(
      sql`${events.streamId} = ${row.streamId} AND ${events.type} = 'attach-document' AND json_extract(${events.payload}, '$.sha256') = ${sha256}`,
    )
    .orderBy(sql`${events.seq} DESC`)
    .limit(1)
    .get();
  if (!found) throw new NotFoundError();
  const payload = JSON.parse(found.payload) as { kind: DocumentKind; name: string; size: number; mediaType: string; sha256: string };
  return { ...payload, seq: found.seq, at: found.at };
}
