import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { documentKinds } from '../../domain/documents.ts';
import type { Actor } from '../../domain/roles.ts';
import { sendApplicationEvent } from '../../engine/applications.ts';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { access } from '../authorization.ts';
import { describeDocumentProblem, kindLabel } from '../documents-view.ts';
import { bodyText } from '../forms.ts';
import { isHtmx, pageActor } from '../plugins/auth.ts';
import { refusalText } from '../refusals.ts';
import { idParam } from './params.ts';
import { receiveUpload, sendDocumentFile } from './document-files.ts';

interface Notice {
  tone: 'info' | 'success' | 'warning' | 'error';
  text: string;
  items?: string[];
}

/** The application page with a notice: how application-pages.ts renders it. */
export type ShowApplication = (request: FastifyRequest, reply: FastifyReply, actor: Actor, id: number, status?: number, extras?: Record<string, unknown>) => Promise<FastifyReply>;

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
  function refusal(request: FastifyRequest, reply: FastifyReply, actor: Actor, id: number, error: unknown) {
    const t = request.t;
    if (error instanceof ConflictError) return showApplication(request, reply, actor, id, 409, { notice: { tone: 'warning', text: t('app.stale') } satisfies Notice });
    if (error instanceof ValidationError) {
      const items = error.problems.map((problem) => describeDocumentProblem(t, request.lang, problem));
      return showApplication(request, reply, actor, id, 422, { notice: { tone: 'error', text: t('documents.refused', { message: items.join(' ') }) } satisfies Notice });
    }
    if (error instanceof DomainError && error.status !== 404) {
      return showApplication(request, reply, actor, id, error.status, { notice: { tone: 'error', text: t('app.refused', { message: refusalText(t, request.lang, error) }) } satisfies Notice });
    }
    throw error;
  }

  /** After a change: the page again for htmx, a redirect to the documents for a plain browser. */
  function done(request: FastifyRequest, reply: FastifyReply, actor: Actor, id: number, notice: Notice) {
    if (isHtmx(request)) return showApplication(request, reply, actor, id, 200, { notice });
    return reply.redirect(`/applications/${id}#documents`, 303);
  }

  app.post('/applications/:id/documents', { config: { access: access.attachDocument, csrf: 'multipart-field' } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const id = idParam(request.params);
    try {
      const applied = await receiveUpload(app, request, reply, actor, id);
      if (!applied) return reply;
      const payload = JSON.parse(applied.event.payload) as { kind: string; name: string };
      return done(request, reply, actor, id, { tone: 'success', text: request.t('documents.uploaded', { kind: kindLabel(request.t, payload.kind), name: payload.name }) });
    } catch (error) {
      if (reply.sent) return reply;
      return refusal(request, reply, actor, id, error);
    }
  });

  app.post('/applications/:id/documents/:kind/review', { config: { access: access.reviewDocument } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const id = idParam(request.params);
    const kind = kindParam(request.params);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const versionText = bodyText(body, 'expectedVersion') ?? '';
    const expectedVersion = /^\d{1,9}$/.test(versionText) ? Number(versionText) : 0;
    const verdict = bodyText(body, 'verdict');
    const remark = bodyText(body, 'remark')?.trim();
    const payload = verdict === 'remark' ? { kind, verdict, remark: remark ?? '' } : { kind, verdict };
    try {
      sendApplicationEvent(app.engine, actor, id, 'review-document', payload, expectedVersion);
      const verdictText = request.t(verdict === 'accepted' ? 'documents.status.accepted' : 'documents.status.remark');
      return done(request, reply, actor, id, { tone: 'success', text: request.t('documents.reviewed', { kind: kindLabel(request.t, kind), verdict: verdictText }) });
    } catch (error) {
      return refusal(request, reply, actor, id, error);
    }
  });

  app.get('/applications/:id/documents/:sha256', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    return sendDocumentFile(app, reply, actor, idParam(request.params), String((request.params as Record<string, unknown>).sha256), 'download');
  });

  app.get('/applications/:id/documents/:sha256/preview', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    return sendDocumentFile(app, reply, actor, idParam(request.params), String((request.params as Record<string, unknown>).sha256), 'preview');
  });
}
