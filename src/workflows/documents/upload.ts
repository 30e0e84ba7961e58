import type { Readable } from 'node:stream';
import { statement } from '../../db/statements.ts';
import {
  cleanFileName,
  documentKinds,
  fileTypes,
  sniffFileType,
  uploadProblems,
  type DocumentKind,
  type DocumentRule,
  type DocumentSet,
} from '../../domain/documents.ts';
import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import { loadApplication, type LoadedApplication } from '../application/reads.ts';
import { sendApplicationEvent } from '../application/commands.ts';
import { documentRequirementReads } from './requirements.ts';
import type { DocumentStore, ReceivedFile } from './store.ts';

/** One row of an application's documents: what the programme asks, what is there, what the reviewer said. */
export interface DocumentRow {
  kind: DocumentKind;
  rule: DocumentRule | null;
  entry: DocumentSet[DocumentKind] | null;
}

/** The programme's kinds for this application, then any other kind that has a file or a verdict. */
export function applicationDocuments(engine: Engine, { row, context }: Pick<LoadedApplication, 'row' | 'context'>): { rows: DocumentRow[]; rules: DocumentRule[] } {
  const rules = documentRequirementReads(engine.db).rulesFor(row.programmeId, context.form.projectType);
  const documents = context.documents ?? {};
  const rows = documentKinds
    .filter((kind) => rules.some((rule) => rule.kind === kind) || documents[kind])
    .map((kind) => ({ kind, rule: rules.find((rule) => rule.kind === kind) ?? null, entry: documents[kind] ?? null }));
  return { rows, rules };
}

/**
 * Refuses before a byte is read what the application would refuse anyway (role, stage, state,
 * version: the engine's `check` asks the machine's rules), and finds the rule of the kind.
 */
function ruleForUpload(engine: Engine, actor: Actor, application: LoadedApplication, kind: unknown, expectedVersion: number | undefined): DocumentRule {
  engine.check(application.stream.id, 'attach-document', actor, expectedVersion);
  const rule = documentRequirementReads(engine.db)
    .rulesFor(application.row.programmeId, application.context.form.projectType)
    .find((candidate) => candidate.kind === kind);
  if (!rule) throw new ValidationError('this application takes no document of that kind', [{ field: 'kind', code: 'document-kind-unknown' }]);
  return rule;
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
export async function drain(source: Readable): Promise<void> {
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
  let rule: DocumentRule;
  let application: LoadedApplication;
  try {
    application = loadApplication(engine, actor, id);
    rule = ruleForUpload(engine, actor, application, upload.kind, upload.expectedVersion);
  } catch (error) {
    await drain(upload.source);
    throw error;
  }
  const received = await store.receive(upload.source, rule.maxBytes);
  return inGroupCommit(engine, store, received, () => attachReceived(engine, store, actor, application, rule, cleanFileName(upload.fileName), received, upload.expectedVersion));
}

/**
 * An upload's event in the engine's next group commit (issue 18). A refused event forgets its file
 * itself (`attachReceived`); a batch whose commit failed leaves the file named by no event, and
 * that is forgotten here.
 */
export async function inGroupCommit(engine: Engine, store: DocumentStore, received: ReceivedFile, send: () => AppliedEvent): Promise<AppliedEvent> {
  try {
    return await engine.write(send);
  } catch (error) {
    if (!received.tooLarge && store.has(received.sha256) && !isReferenced(engine, received.sha256)) store.forget(received.sha256);
    throw error;
  }
}

/** The same for a file already in memory: the demo's generated documents. */
export function attachDocumentBytes(engine: Engine, store: DocumentStore, actor: Actor, id: number, kind: DocumentKind, fileName: string, bytes: Buffer, expectedVersion?: number): AppliedEvent {
  const application = loadApplication(engine, actor, id);
  const rule = ruleForUpload(engine, actor, application, kind, expectedVersion);
  if (bytes.length > rule.maxBytes) throw new ValidationError('the file is too large', [{ field: 'file', code: 'document-too-large', params: { max: rule.maxBytes } }]);
  return attachReceived(engine, store, actor, application, rule, cleanFileName(fileName), store.receiveBytes(bytes), expectedVersion);
}

/**
 * Checks a received file against its rule (type by its bytes, size, name), keeps it under its
 * SHA-256 and sends the upload-only event that names it: `attach-document` with its kind, or, with
 * `as`, another (an implementation's `attach-evidence`, issue 11) with its own fields first. A
 * refused event leaves no file that no event names.
 */
export function attachReceived(
  engine: Engine,
  store: DocumentStore,
  actor: Actor,
  { row, stream }: LoadedApplication,
  rule: DocumentRule,
  name: string,
  received: ReceivedFile,
  expectedVersion: number | undefined,
  as: { type: string; fields: Record<string, unknown> } = { type: 'attach-document', fields: { kind: rule.kind } },
): AppliedEvent {
  const sniffed = received.tooLarge ? null : sniffFileType(received.head, received.tail);
  const problems = uploadProblems(rule, { name, size: received.size, sniffed, tooLarge: received.tooLarge });
  if (problems.length > 0 || sniffed === null) {
    store.discard(received);
    throw new ValidationError('the file is refused', problems);
  }
  const kept = store.keep(received);
  const payload = { ...as.fields, name, size: received.size, mediaType: fileTypes[sniffed].mediaType, sha256: received.sha256 };
  try {
    // Without an expected version the file goes onto the application as it is now (the file took time to arrive).
    const version = expectedVersion ?? engine.loadStream(stream.id)?.version ?? row.version;
    return sendApplicationEvent(engine, actor, row.id, as.type, payload, version, 'upload');
  } catch (error) {
    // The event was refused: a file this upload stored and no event names must not stay.
    if (kept.created && !isReferenced(engine, received.sha256)) store.forget(received.sha256);
    throw error;
  }
}

/** Whether any event names this file: an `attach-document` or `attach-evidence`, or a message's attachment (issue 12). */
export function isReferenced(engine: Engine, sha256: string): boolean {
  const document = statement<[string], { n: number }>(engine.db, "SELECT count(*) AS n FROM events WHERE type IN ('attach-document', 'attach-evidence') AND json_extract(payload, '$.sha256') = ?").get(sha256)!.n > 0;
  return document || statement<[string], { n: number }>(engine.db, "SELECT count(*) AS n FROM events, json_each(events.payload, '$.attachments') AS file WHERE events.type = 'post-message' AND json_extract(file.value, '$.sha256') = ?").get(sha256)!.n > 0;
}

/** A stored file of an application: one an `attach-document` event of that application names, with the name it was given. */
export interface StoredDocument {
  /** A document's kind, or an implementation's evidence kind (issue 11). */
  kind: string;
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
  const { row } = loadApplication(engine, actor, id);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFoundError();
  const found = statement<[string, string], { payload: string; seq: number; at: string }>(
    engine.db,
    "SELECT payload, seq, at FROM events WHERE stream_id = ? AND type IN ('attach-document', 'attach-evidence') AND json_extract(payload, '$.sha256') = ? ORDER BY seq DESC LIMIT 1",
  ).get(row.streamId, sha256);
  if (!found) throw new NotFoundError();
  const payload = JSON.parse(found.payload) as { kind: string; name: string; size: number; mediaType: string; sha256: string };
  return { ...payload, seq: found.seq, at: found.at };
}
