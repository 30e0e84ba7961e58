import { formFields, type ApplicationForm, type Remark } from '../../domain/application.ts';
import { documentKinds, type DocumentKind, type DocumentSet } from '../../domain/documents.ts';
import type { EventRow, StreamRow } from '../../engine/engine.ts';
import { replayStream } from '../../engine/replay.ts';
import type { MachineRegistry } from '../../../machines/registry.ts';
import type { ApplicationContext } from '../../../machines/application.ts';

/** The states in which a returned application is back with its reviewer: what the re-review compares. */
export const inReReview = (state: string): boolean => state === 'submitted' || state === 'under-review';

export interface FieldSinceReturn {
  field: string;
  /** The reviewer's remarks on the field at the return. */
  remarks: string[];
  then: unknown;
  now: unknown;
  changed: boolean;
}

export interface DocumentSinceReturn {
  kind: DocumentKind;
  remark: string | null;
  thenName: string | null;
  nowName: string | null;
  /** A new file was attached after the return. */
  replaced: boolean;
}

/** What changed since an application's last return for revision, read from its log (issue 16). */
export interface SinceReturn {
  returnSeq: number;
  returnedAt: string;
  returnedBy: string;
  general: string[];
  fields: FieldSinceReturn[];
  documents: DocumentSinceReturn[];
}

export function valueAt(form: ApplicationForm, field: string): unknown {
  const [head, tail] = field.split('.') as [keyof ApplicationForm, string | undefined];
  const value = form[head];
  if (tail === undefined) return value;
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[tail] : undefined;
}

const same = (a: unknown, b: unknown) => (a ?? null) === (b ?? null);

/**
 * Beside each field, the remark it had at the last return, its value then and now; which
 * documents were replaced since. The "then" is the application as the log had it right after the
 * return, replayed through the machines that made it; the "now" is the current context. Nothing
 * when the application was never returned.
 */
export function sinceLastReturn(registry: MachineRegistry, stream: StreamRow, rows: EventRow[], now: ApplicationContext): SinceReturn | null {
  const index = rows.map((row) => row.type).lastIndexOf('return-for-revision');
  if (index < 0) return null;
  const returned = rows[index]!;
  const step = replayStream(registry, stream, rows.slice(0, index + 1)).steps.at(-1);
  const then = step?.context as ApplicationContext | null | undefined;
  if (!then) return null;
  const remarks: Remark[] = then.remarks ?? [];
  const remarksOf = (field: string) => remarks.filter((remark) => remark.field === field).map((remark) => remark.text);
  const fields = formFields.map((field) => {
    const before = valueAt(then.form, field);
    const after = valueAt(now.form, field);
    return { field, remarks: remarksOf(field), then: before, now: after, changed: !same(before, after) };
  });
  const thenDocuments: DocumentSet = then.documents ?? {};
  const nowDocuments: DocumentSet = now.documents ?? {};
  const attachedSince = new Set(rows.slice(index + 1).filter((row) => row.type === 'attach-document').map((row) => (JSON.parse(row.payload) as { kind: string }).kind));
  const documents = documentKinds
    .filter((kind) => attachedSince.has(kind) || thenDocuments[kind]?.verdict === 'remark')
    .map((kind) => ({
      kind,
      remark: thenDocuments[kind]?.verdict === 'remark' ? (thenDocuments[kind]!.remark ?? null) : null,
      thenName: thenDocuments[kind]?.file?.name ?? null,
      nowName: nowDocuments[kind]?.file?.name ?? null,
      replaced: attachedSince.has(kind),
    }));
  return {
    returnSeq: returned.seq,
    returnedAt: returned.at,
    returnedBy: (JSON.parse(returned.actor) as { name: string }).name,
    general: remarksOf('general'),
    fields,
    documents,
  };
}
