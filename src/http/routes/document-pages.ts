import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { documentKinds } from '../../domain/documents.ts';
import { ConflictError, ValidationError, NotFoundError, type DomainError } from '../../engine/errors.ts';
import { sendApplicationEvent } from '../../workflows/application/commands.ts';
import { access } from '../authorization.ts';
import { describeDocumentProblem, kindLabel } from '../documents-view.ts';
import { describeProblem } from '../application-view.ts';
import { bodyText } from '../forms.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, type Notice, type ShowApplication } from '../page-kit.ts';
import { isHtmx } from '../plugins/auth.ts';
import { statusOf } from '../plugins/errors.ts';
import { refusalText } from '../refusals.ts';
import { idParam } from './params.ts';
import { receiveUpload, sendDocumentFile } from './document-files.ts';

function kindParam(params: unknown): (typeof documentKinds)[number] {
  const kind = (params as Record<string, unknown>).kind;
  if (typeof kind !== 'string' || !(documentKinds as readonly string[]).includes(kind)) throw new NotFoundError();
  return kind as (typeof documentKinds)[number];
}

/**
 * The documents on the application page (issue 7): uploads, the reviewer's verdicts, downloads
 * and previews. Registered by `applicationPages`, whose page it answers with.
 */
export function documentPages(app: FastifyInstance, showApplication: ShowApplication): void {
  /** A refusal on the application page: 409 for a stale page, 422 for anything the person can fix. */
  function refusal(request: FastifyRequest, reply: FastifyReply, id: number, error: DomainError) {
    const t = request.t;
    if (error instanceof ConflictError) return showApplication(request, reply, id, 409, { notice: { tone: 'warning', text: t('app.stale') } satisfies Notice });
    if (error instanceof ValidationError) {
      const items = error.problems.map((problem) => describeDocumentProblem(t, request.lang, problem));
      return showApplication(request, reply, id, 422, { notice: { tone: 'error', text: t('documents.refused', { message: items.join(' ') }) } satisfies Notice });
    }
    return showApplication(request, reply, id, statusOf(error), { notice: { tone: 'error', text: t('app.refused', { message: refusalText(t, request.lang, error) }) } satisfies Notice });
  }

  /** After a change: the page again for htmx, a redirect to the documents for a plain browser. */
  function done(request: FastifyRequest, reply: FastifyReply, id: number, notice: Notice) {
    if (isHtmx(request)) return showApplication(request, reply, id, 200, { notice });
    return reply.redirect(`/applications/${id}#documents`, 303);
  }

  app.post('/applications/:id/documents', { config: { access: access.attachDocument, csrf: 'multipart-field' } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const uploaded = await attempt(() => receiveUpload(app, request, reply, actor, id)).catch((error: unknown) => {
      if (reply.sent) return null;
      throw error;
    });
    if (uploaded === null || reply.sent) return reply;
    if (!uploaded.ok) return refusal(request, reply, id, uploaded.error);
    if (!uploaded.value) return reply;
    const payload = JSON.parse(uploaded.value.event.payload) as { kind: string; name: string };
    return done(request, reply, id, { tone: 'success', text: request.t('documents.uploaded', { kind: kindLabel(request.t, payload.kind), name: payload.name }) });
  });

  // The implementation's evidence (issue 11): a photo, the acceptance act, the agreement's scan, from the card's form.
  app.post('/applications/:id/evidence', { config: { access: access.attachEvidence, csrf: 'multipart-field' } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const uploaded = await attempt(() => receiveUpload(app, request, reply, actor, id, { evidence: true })).catch((error: unknown) => {
      if (reply.sent) return null;
      throw error;
    });
    if (uploaded === null || reply.sent) return reply;
    if (!uploaded.ok) {
      const error = uploaded.error;
      if (error instanceof ValidationError) {
        const t = request.t;
        const words = error.problems.map((problem) => (problem.code.startsWith('document-') ? describeDocumentProblem(t, request.lang, problem) : describeProblem(t, request.lang, problem)));
        const evidenceProblems: Record<string, string> = {};
        error.problems.forEach((problem, i) => (evidenceProblems[problem.field === 'kind' ? 'kind' : 'file'] ??= words[i]!));
        return showApplication(request, reply, id, 422, { notice: { tone: 'error', text: t('documents.refused', { message: words.join(' ') }) } satisfies Notice, evidenceProblems });
      }
      return refusal(request, reply, id, error);
    }
    if (!uploaded.value) return reply;
    const payload = JSON.parse(uploaded.value.event.payload) as { name: string };
    const notice: Notice = { tone: 'success', text: request.t('impl.attached', { name: payload.name }) };
    if (isHtmx(request)) return showApplication(request, reply, id, 200, { notice });
    return reply.redirect(`/applications/${id}#implementation`, 303);
  });

  app.post('/applications/:id/documents/:kind/review', { config: { access: access.reviewDocument } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const kind = kindParam(request.params);
    const body = formBody(request);
    const verdict = bodyText(body, 'verdict');
    const remark = bodyText(body, 'remark')?.trim();
    const payload = verdict === 'remark' ? { kind, verdict, remark: remark ?? '' } : { kind, verdict };
    const reviewed = await attemptWrite(app.engine, () => sendApplicationEvent(app.engine, actor, id, 'review-document', payload, formVersion(body)));
    if (!reviewed.ok) return refusal(request, reply, id, reviewed.error);
    const verdictText = request.t(verdict === 'accepted' ? 'documents.status.accepted' : 'documents.status.remark');
    return done(request, reply, id, { tone: 'success', text: request.t('documents.reviewed', { kind: kindLabel(request.t, kind), verdict: verdictText }) });
  });

  app.get('/applications/:id/documents/:sha256', { config: { access: access.signedIn } }, async (request, reply) => {
    return sendDocumentFile(app, reply, actorOf(request), idParam(request.params), String((request.params as Record<string, unknown>).sha256), 'download');
  });

  app.get('/applications/:id/documents/:sha256/preview', { config: { access: access.signedIn } }, async (request, reply) => {
    return sendDocumentFile(app, reply, actorOf(request), idParam(request.params), String((request.params as Record<string, unknown>).sha256), 'preview');
  });
}
