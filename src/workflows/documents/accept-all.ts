import { documentKinds, type DocumentKind, type DocumentSet } from '../../domain/documents.ts';
import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { ConflictError, NotAllowedError } from '../../engine/errors.ts';
import { sendApplicationEvent } from '../application/commands.ts';
import { loadApplication } from '../application/reads.ts';

/** The kinds whose file waits for the reviewer's verdict, in the order the card lists them. */
export function pendingDocumentKinds(documents: DocumentSet | undefined): DocumentKind[] {
  return documentKinds.filter((kind) => documents?.[kind]?.file && documents[kind]!.verdict === 'pending');
}

/**
 * Accepts every document waiting for the reviewer in one action (issue 16), each as its own
 * `review-document` event through the one write path, all in one transaction: either every one is
 * accepted or none is. `expectedVersion` is the version the page showed.
 */
export function acceptPendingDocuments(engine: Engine, actor: Actor, id: number, expectedVersion: number): { accepted: DocumentKind[]; last: AppliedEvent } {
  return engine.transaction(() => {
    const { context, stream } = loadApplication(engine, actor, id);
    // A stale page is told so first, with the state as it is now: what it saw pending may be accepted already.
    if (stream.version !== expectedVersion) throw new ConflictError(`the application changed: version ${stream.version}, not ${expectedVersion}`, { state: stream.state, version: stream.version });
    const kinds = pendingDocumentKinds(context.documents);
    if (kinds.length === 0) throw new NotAllowedError('no document waits for a verdict', {}, 'documents.refused.nonePending');
    let version = expectedVersion;
    let last: AppliedEvent | undefined;
    for (const kind of kinds) {
      last = sendApplicationEvent(engine, actor, id, 'review-document', { kind, verdict: 'accepted' }, version);
      version = last.version;
    }
    return { accepted: kinds, last: last! };
  });
}
