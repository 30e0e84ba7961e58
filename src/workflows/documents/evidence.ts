import type { Readable } from 'node:stream';
import { cleanFileName, type DocumentRule } from '../../domain/documents.ts';
import { evidenceKinds, evidenceRules, type EvidenceKind } from '../../domain/implementation.ts';
import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { ValidationError } from '../../engine/errors.ts';
import { loadApplication, type LoadedApplication } from '../application/reads.ts';
import { attachReceived, drain, inGroupCommit } from './upload.ts';
import type { DocumentStore, ReceivedFile } from './store.ts';

/**
 * The evidence of an implementation (issue 11): the signed agreement's scan, the acceptance act,
 * the photos of the works and of monitoring visits. Uploaded like a document — streamed to a
 * temporary file, hashed, its type sniffed from its bytes, kept under its SHA-256 — and recorded
 * by an `attach-evidence` event, which only this path may send.
 */
export interface EvidenceUpload {
  kind: unknown;
  caption?: string;
  fileName: string;
  source: Readable;
  expectedVersion?: number;
}

/** The rule of an evidence kind, in the shape the document checks read. */
function ruleOf(kind: unknown): DocumentRule & { evidence: EvidenceKind } {
  if (typeof kind !== 'string' || !(evidenceKinds as readonly string[]).includes(kind)) {
    throw new ValidationError('no such kind of evidence', [{ field: 'kind', code: 'evidence-kind-unknown' }]);
  }
  const evidence = kind as EvidenceKind;
  // The document checks name a kind; evidence is checked by its own rule, under its own name.
  return { kind: 'other', required: false, fileTypes: [...evidenceRules[evidence].fileTypes], maxBytes: evidenceRules[evidence].maxBytes, evidence };
}

/** Refuses before a byte is read what the application would refuse anyway: role, stage, state, version. */
function checkFirst(engine: Engine, actor: Actor, id: number, kind: unknown, expectedVersion: number | undefined) {
  const application = loadApplication(engine, actor, id);
  const rule = ruleOf(kind);
  engine.check(application.stream.id, 'attach-evidence', actor, expectedVersion);
  return { application, rule };
}

export async function attachUploadedEvidence(engine: Engine, store: DocumentStore, actor: Actor, id: number, upload: EvidenceUpload): Promise<AppliedEvent> {
  let checked: ReturnType<typeof checkFirst>;
  try {
    checked = checkFirst(engine, actor, id, upload.kind, upload.expectedVersion);
  } catch (error) {
    await drain(upload.source);
    throw error;
  }
  const received = await store.receive(upload.source, checked.rule.maxBytes);
  return inGroupCommit(engine, store, received, () => recordEvidence(engine, store, actor, checked.application, checked.rule, upload.caption, cleanFileName(upload.fileName), received, upload.expectedVersion));
}

/** The same for a file already in memory: the demo's generated photos and acts. */
export function attachEvidenceBytes(engine: Engine, store: DocumentStore, actor: Actor, id: number, kind: EvidenceKind, caption: string | undefined, fileName: string, bytes: Buffer, expectedVersion?: number): AppliedEvent {
  const { application, rule } = checkFirst(engine, actor, id, kind, expectedVersion);
  return recordEvidence(engine, store, actor, application, rule, caption, cleanFileName(fileName), store.receiveBytes(bytes), expectedVersion);
}

function recordEvidence(
  engine: Engine,
  store: DocumentStore,
  actor: Actor,
  application: LoadedApplication,
  rule: DocumentRule & { evidence: EvidenceKind },
  caption: string | undefined,
  name: string,
  received: ReceivedFile,
  expectedVersion: number | undefined,
): AppliedEvent {
  const trimmed = caption?.trim();
  const fields = { kind: rule.evidence, ...(trimmed ? { caption: trimmed } : {}) };
  return attachReceived(engine, store, actor, application, rule, name, received, expectedVersion, { type: 'attach-evidence', fields });
}
