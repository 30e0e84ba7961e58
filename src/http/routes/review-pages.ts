import type { FastifyInstance } from 'fastify';
import { ConflictError } from '../../engine/errors.ts';
import { acceptPendingDocuments } from '../../workflows/documents/accept-all.ts';
import { access } from '../authorization.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, type ShowApplication } from '../page-kit.ts';
import { isHtmx } from '../plugins/auth.ts';
import { statusOf } from '../plugins/errors.ts';
import { queueContextOf, queueSuffix } from '../queue-view.ts';
import { refusalText } from '../refusals.ts';
import { idParam } from './params.ts';

/**
 * The reviewer's one-click actions on the application page (issue 16), registered by
 * `applicationPages`, whose page they answer with: accepting every pending document at once.
 */
export function reviewPages(app: FastifyInstance, showApplication: ShowApplication): void {
  app.post('/applications/:id/documents/accept-all', { config: { access: access.reviewDocument } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const t = request.t;
    const done = await attemptWrite(app.engine, () => acceptPendingDocuments(app.engine, actor, id, formVersion(formBody(request))));
    if (!done.ok) {
      if (done.error instanceof ConflictError) return showApplication(request, reply, id, 409, { notice: { tone: 'warning', text: t('app.stale') } });
      return showApplication(request, reply, id, statusOf(done.error), { notice: { tone: 'error', text: t('app.refused', { message: refusalText(t, request.lang, done.error) }) } });
    }
    if (!isHtmx(request)) return reply.redirect(`/applications/${id}${queueSuffix(queueContextOf(request))}`, 303);
    return showApplication(request, reply, id, 200, { notice: { tone: 'success', text: t('review.acceptedAll', { count: done.value.accepted.length }) } });
  });
}
