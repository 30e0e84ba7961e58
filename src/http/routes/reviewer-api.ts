import type { FastifyInstance } from 'fastify';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { reviewerStreamId } from '../../../machines/reviewer.ts';
import { declareConflict, reviewerStreamVersion } from '../../workflows/reviewer/commands.ts';
import { reviewerReads } from '../../workflows/reviewer/reads.ts';
import { access, allows } from '../authorization.ts';
import { requireActor } from '../plugins/auth.ts';
import { expectedVersionOf, idParam, objectBody } from './params.ts';

/**
 * A reviewer's declarations of conflicts of interest through the JSON API (issue 16): the events
 * of their `reviewer` stream, sent by the reviewer themselves, and the list as it stands.
 */
export async function reviewerApi(app: FastifyInstance) {
  const reads = reviewerReads(app.db);

  app.get('/api/reviewers/:id/conflicts', { config: { access: access.staff } }, async (request) => {
    const actor = requireActor(request);
    const id = idParam(request.params);
    // Seen as the stream itself is (src/workflows/reviewer/kind.ts): by the reviewer, and by those who assign or audit.
    if (actor.id !== id && !allows(access.overseeConflicts, actor.role)) throw new NotFoundError();
    return { reviewerId: id, version: reviewerStreamVersion(app.engine, id), conflicts: reads.conflictsOf(id) };
  });

  app.post('/api/reviewers/:id/events', { config: { access: access.declareConflicts } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = idParam(request.params);
    const body = objectBody(request.body);
    const { type, expectedVersion: _ignored, ...payload } = body;
    if (typeof type !== 'string' || type.length > 64) throw new ValidationError('type is required', [{ field: 'type', code: 'required' }]);
    const streamId = reviewerStreamId(id);
    if (!app.engine.loadStream(streamId)) {
      // The first declaration opens the reviewer's own stream; nobody else's.
      if (id !== actor.id) throw new NotFoundError();
      if (type !== 'declare-conflict') throw new ForbiddenError('nothing was declared yet');
      const applied = declareConflict(app.engine, actor, payload as { municipalityId: number; reason: string }, 0);
      return reply.header('ETag', `"${applied.version}"`).send({ state: applied.state, version: applied.version });
    }
    const applied = app.engine.apply(streamId, { type, payload }, expectedVersionOf(body, request.headers['if-match']), actor);
    return reply.header('ETag', `"${applied.version}"`).send({ state: applied.state, version: applied.version });
  });
}
