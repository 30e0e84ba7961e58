import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError, NotFoundError } from '../../engine/errors.ts';
import { reviewerEventSchemas, reviewerStreamId } from '../../../machines/reviewer.ts';
import { declareConflict, reviewerStreamVersion } from '../../workflows/reviewer/commands.ts';
import { reviewerReads } from '../../workflows/reviewer/reads.ts';
import { access, allows } from '../authorization.ts';
import { bodyErrors, errors, eventEnvelope, expectedVersionSchema, idParams, json, pathErrors } from '../api-schemas.ts';
import { requireActor } from '../plugins/auth.ts';
import { expectedVersionOf } from './params.ts';

/** A reviewer's event as the document shows it: one member per event type of the `reviewer` machine. */
const reviewerEventBody = z
  .discriminatedUnion(
    'type',
    Object.entries(reviewerEventSchemas).map(([type, payload]) => payload.safeExtend({ type: z.literal(type), expectedVersion: expectedVersionSchema.optional() }).meta({ title: type })) as unknown as [
      z.ZodObject,
      ...z.ZodObject[],
    ],
  )
  .meta({ id: 'ReviewerEvent', description: 'A reviewer’s declaration: `type`, `expectedVersion` (0 or absent before the first) and the payload of that type.' });

const conflictsResponse = z
  .object({
    reviewerId: z.int().min(1),
    version: z.int().min(0),
    conflicts: z.array(z.object({ municipalityId: z.int().min(1), municipalityName: z.string(), reason: z.string(), declaredAt: z.string() })),
  })
  .meta({ id: 'ReviewerConflicts' });

const reviewerAppliedResponse = z.object({ state: z.string(), version: z.int().min(1) }).meta({ id: 'ReviewerApplied' });

/**
 * A reviewer's declarations of conflicts of interest through the JSON API (issue 16): the events
 * of their `reviewer` stream, sent by the reviewer themselves, and the list as it stands.
 */
export async function reviewerApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const reads = reviewerReads(app.db);
  const tags = ['reviewers'];

  api.get(
    '/api/reviewers/:id/conflicts',
    {
      config: { access: access.staff },
      schema: {
        tags,
        summary: 'The conflicts of interest a reviewer declared (the reviewer, coordinators, auditors and admins)',
        params: idParams,
        response: { 200: json('the declarations as they stand', conflictsResponse), ...errors(401, 403, ...pathErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const id = request.params.id;
      // Seen as the stream itself is (src/workflows/reviewer/kind.ts): by the reviewer, and by those who assign or audit.
      if (actor.id !== id && !allows(access.overseeConflicts, actor.role)) throw new NotFoundError();
      return { reviewerId: id, version: reviewerStreamVersion(app.engine, id), conflicts: reads.conflictsOf(id) };
    },
  );

  api.post(
    '/api/reviewers/:id/events',
    {
      config: { access: access.declareConflicts },
      schema: {
        tags,
        summary: 'Send a reviewer’s own event: declare-conflict, withdraw-conflict',
        description: 'The first declaration opens the reviewer’s stream; `expectedVersion` may come as `If-Match: "N"` afterwards.',
        params: idParams,
        body: eventEnvelope,
        documentedBody: reviewerEventBody,
        response: { 200: json('taken: the stream’s new version', reviewerAppliedResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const id = request.params.id;
      const { type, expectedVersion: _ignored, ...payload } = request.body;
      const streamId = reviewerStreamId(id);
      if (!app.engine.loadStream(streamId)) {
        // The first declaration opens the reviewer's own stream; nobody else's.
        if (id !== actor.id) throw new NotFoundError();
        if (type !== 'declare-conflict') throw new ForbiddenError('nothing was declared yet');
        const applied = await app.engine.write(() => declareConflict(app.engine, actor, payload as { municipalityId: number; reason: string }, 0));
        return reply.header('ETag', `"${applied.version}"`).send({ state: applied.state, version: applied.version });
      }
      const applied = await app.engine.write(() => app.engine.apply(streamId, { type, payload }, expectedVersionOf(request.body, request.headers['if-match']), actor));
      return reply.header('ETag', `"${applied.version}"`).send({ state: applied.state, version: applied.version });
    },
  );
}
