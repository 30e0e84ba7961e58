import type { FastifyInstance } from 'fastify';
import { loadStreamEvents, replayStream } from '../../engine/replay.ts';
import { ValidationError } from '../../engine/errors.ts';
import { createApplication, sendApplicationEvent } from '../../workflows/application/commands.ts';
import { allowedEventTypes, applicationOptions, loadApplication } from '../../workflows/application/reads.ts';
import { applicationQueries, listFilterSchema } from '../../read/applications.ts';
import { requireActor } from '../plugins/auth.ts';
import { access } from '../authorization.ts';
import { expectedVersionOf, idParam, objectBody } from './params.ts';

/** The JSON API of applications (DESIGN §6): bearer tokens, thin handlers over the engine. */
export async function applicationApi(app: FastifyInstance) {
  const queries = applicationQueries(app.db);

  app.post('/api/applications', { config: { access: access.createApplication } }, async (request, reply) => {
    const actor = requireActor(request);
    const { programmeId, ...form } = objectBody(request.body);
    const created = createApplication(app.engine, actor, { programmeId, form });
    return reply.code(201).header('ETag', `"${created.version}"`).send({ id: created.id, state: created.state, version: created.version });
  });

  app.get('/api/applications', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const filter = listFilterSchema.parse(request.query ?? {});
    return queries.list(actor, filter);
  });

  app.get('/api/applications/:id', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = requireActor(request);
    const { row, stream, context } = loadApplication(app.engine, actor, idParam(request.params));
    return reply.header('ETag', `"${row.version}"`).send({
      id: row.id,
      programmeId: row.programmeId,
      municipalityId: row.municipalityId,
      state: row.state,
      version: row.version,
      data: context.form,
      remarks: context.remarks,
      reason: context.reason,
      firstSubmittedAt: context.firstSubmittedAt,
      awardedKopecks: context.awardedKopecks,
      allowedEvents: allowedEventTypes(applicationOptions(app.engine, actor, stream)),
    });
  });

  app.post('/api/applications/:id/events', { config: { access: access.applicationEvents } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = idParam(request.params);
    const { type, expectedVersion: _ignored, ...payload } = objectBody(request.body);
    if (typeof type !== 'string' || type.length > 64) throw new ValidationError('type is required', [{ field: 'type', code: 'required' }]);
    const expectedVersion = expectedVersionOf(objectBody(request.body), request.headers['if-match']);
    const applied = sendApplicationEvent(app.engine, actor, id, type, payload, expectedVersion);
    return reply.header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version });
  });

  app.get('/api/applications/:id/history', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const { row } = loadApplication(app.engine, actor, idParam(request.params));
    return queries.history(row.streamId).map((event) => ({
      seq: event.seq,
      position: event.position,
      type: event.type,
      payload: JSON.parse(event.payload) as unknown,
      facts: JSON.parse(event.facts) as unknown,
      actor: JSON.parse(event.actor) as unknown,
      at: event.at,
      from: event.fromState,
      to: event.toState,
      machineId: event.machineId,
      machineVersion: event.machineVersion,
      prevHash: event.prevHash,
      hash: event.hash,
    }));
  });

  app.get('/api/applications/:id/replay', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const { row, stream } = loadApplication(app.engine, actor, idParam(request.params));
    const result = replayStream(app.engine.registry, stream, loadStreamEvents(app.db, row.streamId));
    const seqParam = (request.query as Record<string, unknown>).seq;
    const seq = seqParam === undefined ? result.steps.length : Number(seqParam);
    const step = Number.isInteger(seq) ? result.steps.find((s) => s.seq === seq) : undefined;
    if (!step) throw new ValidationError(`seq must be between 1 and ${result.steps.length}`, [{ field: 'seq', code: 'out-of-range' }]);
    const context = step.context as { form?: unknown } | null;
    return {
      id: row.id,
      seq: step.seq,
      events: result.steps.length,
      type: step.type,
      at: step.at,
      state: step.replayedState,
      storedState: step.to,
      data: context?.form ?? null,
      context,
      matches: step.matches,
      ok: result.ok,
      problems: result.problems,
    };
  });
}
