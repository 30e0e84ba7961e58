import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { events } from '../../db/schema.ts';
import type { MachineRegistry } from '../../../machines/registry.ts';
import type { DocumentStore } from './store.ts';
import type { LedgerProblem } from '../../engine/replay.ts';
import { verifyWithCheckpoints, type CheckpointUpdate, type LedgerReport, type VerifyOptions } from '../../engine/verify.ts';

const SHA256 = /^[0-9a-f]{64}$/;

export interface DocumentFilesReport {
  /** How many `attach-document` events were checked. */
  files: number;
  problems: LedgerProblem[];
}

/** What one stored file turned out to be; several events may name the same (content-addressed) file. */
type FileFinding = { found: 'same' } | { found: 'missing'; why: string } | { found: 'altered'; sha256: string; size: number };

/** The SHA-256 of a file, read in chunks: a document is never held whole in memory. */
async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function findFile(store: DocumentStore, sha256: string): Promise<FileFinding> {
  const path = store.pathOf(sha256);
  try {
    const info = await stat(path);
    if (!info.isFile()) return { found: 'missing', why: 'is not a file' };
    const actual = await sha256OfFile(path);
    return actual === sha256 ? { found: 'same' } : { found: 'altered', sha256: actual, size: info.size };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { found: 'missing', why: code === 'ENOENT' ? 'is not in the document store' : `cannot be read (${code ?? String(error)})` };
  }
}

/**
 * Whether the files on disk are the files the log names: for every `attach-document` event (of one
 * stream, or of the whole log), the stored file exists and its SHA-256 is the one the event
 * recorded. The chain proves the event; this proves that the file the reviewer saw is the file held.
 * It reports, never throws on bad data.
 */
export async function checkDocumentFiles(db: Db, store: DocumentStore, options: { streamId?: string } = {}): Promise<DocumentFilesReport> {
  const attached = db
    .select({ streamId: events.streamId, seq: events.seq, type: events.type, payload: events.payload })
    .from(events)
    .where(and(inArray(events.type, ['attach-document', 'attach-evidence', 'post-message']), options.streamId === undefined ? undefined : eq(events.streamId, options.streamId)))
    .orderBy(asc(events.position))
    .all();
  const findings = new Map<string, Promise<FileFinding>>();
  const problems: LedgerProblem[] = [];
  // A message names its attachments (issue 12): each is held to its hash like a document.
  const named = attached.flatMap((row) => {
    // An implementation's evidence (issue 11) names its file as a document does.
    if (row.type === 'attach-document' || row.type === 'attach-evidence') return [{ ...row, file: row.payload }];
    try {
      const files = (JSON.parse(row.payload) as { attachments?: unknown }).attachments;
      return Array.isArray(files) ? files.map((file) => ({ ...row, file: JSON.stringify(file) })) : [];
    } catch {
      return [];
    }
  });
  for (const row of named) {
    let payload: { name?: unknown; sha256?: unknown; size?: unknown } = {};
    try {
      payload = JSON.parse(row.file) as typeof payload;
    } catch {
      // an unreadable payload has no file to name: reported below; its hash-mismatch is verify's
    }
    const name = typeof payload.name === 'string' ? payload.name : '?';
    if (typeof payload.sha256 !== 'string' || !SHA256.test(payload.sha256)) {
      problems.push({ stream: row.streamId, seq: row.seq, kind: 'document-missing', message: `the event names no stored file: its payload has no SHA-256` });
      continue;
    }
    const sha256 = payload.sha256;
    const file = { name, sha256 };
    let finding = findings.get(sha256);
    if (!finding) {
      finding = findFile(store, sha256);
      findings.set(sha256, finding);
    }
    const found = await finding;
    if (found.found === 'missing') {
      problems.push({ stream: row.streamId, seq: row.seq, kind: 'document-missing', message: `the file “${name}” (SHA-256 ${sha256}) ${found.why}`, file });
    } else if (found.found === 'altered') {
      const sizes = typeof payload.size === 'number' && payload.size !== found.size ? `, ${found.size} bytes instead of ${payload.size}` : '';
      problems.push({
        stream: row.streamId,
        seq: row.seq,
        kind: 'document-altered',
        message: `the stored file “${name}” is not the file the event names: its SHA-256 is ${found.sha256}, not ${sha256}${sizes}`,
        file,
      });
    }
  }
  return { files: named.length, problems };
}

/** The ledger's verification and the document files' check together: what the CLI, the API and the ledger page report. */
export interface RecordReport extends LedgerReport {
  /** How many `attach-document` events had their file checked. */
  documents: number;
}

export async function verifyLedgerAndDocuments(db: Db, registry: MachineRegistry, store: DocumentStore, options: VerifyOptions = {}): Promise<RecordReport> {
  return (await verifyRecord(db, registry, store, options)).report;
}

/**
 * The record's verification and the checkpoints it reached. The files are checked whole every time,
 * an incremental verify too: a file can be changed on disk whenever, whatever its event's age.
 */
export async function verifyRecord(
  db: Db,
  registry: MachineRegistry,
  store: DocumentStore,
  options: VerifyOptions = {},
): Promise<{ report: RecordReport; checkpoints: CheckpointUpdate }> {
  const { report: ledger, checkpoints } = verifyWithCheckpoints(db, registry, options);
  const documents = await checkDocumentFiles(db, store);
  const problems = [...ledger.problems, ...documents.problems];
  return { report: { ...ledger, ok: problems.length === 0, problems, documents: documents.files }, checkpoints };
}
