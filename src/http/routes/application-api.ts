import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { loadStreamEvents, replayStream } from '../../engine/replay.ts';
import { ValidationError } from '../../engine/errors.ts';
import { createApplication, sendApplicationEvent } from '../../workflows/application/commands.ts';
import { allowedEventTypes, applicationOptions, loadApplication } from '../../workflows/application/reads.ts';
import { applicationQueries, listFilterSchema } from '../../read/applications.ts';
import { requireActor } from '../plugins/auth.ts';
import { access } from '../authorization.ts';
import {
  appliedResponse,
  applicationCreateBody,
  applicationEventBody,
  applicationListResponse,
  applicationResponse,
  bodyErrors,
  pathErrors,
  errors,
  eventEnvelope,
  historyResponse,
  idParams,
  json,
  replayQuery,
  replayResponse,
} from '../api-schemas.ts';
import { expectedVersionOf } from './params.ts';

/** The JSON API of applications (DESIGN §6): bearer tokens, thin handlers over the engine. */
export async function applicationApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const queries = applicationQueries(app.db);
  const tags = ['applications'];

  api.post(
    '/api/applications',
    {
      config: { access: access.createApplication },
      schema: {
        tags,
        summary: 'Create an application (a draft) in the applicant’s municipality',
        description: 'A draft may be incomplete; `submit` checks it whole against the programme’s rules.',
        body: applicationCreateBody,
        response: { 201: json('created, as a draft', appliedResponse), ...errors(401, 403, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { programmeId, ...form } = request.body;
      const created = await app.engine.write(() => createApplication(app.engine, actor, { programmeId, form }));
      return reply.code(201).header('ETag', `"${created.version}"`).send({ id: created.id, state: created.state, version: created.version });
    },
  );

  api.get(
    '/api/applications',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'List applications (50 a page, the latest changed first)',
        description: 'An applicant sees its own municipality’s only. Filters that do not parse are ignored.',
        querystring: listFilterSchema,
        response: { 200: json('the applications this user may see, under the filters', applicationListResponse), ...errors(401) },
      },
    },
    async (request) => queries.list(requireActor(request), request.query),
  );

  api.get(
    '/api/applications/:id',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'One application: its state, version, form, remarks and the events this user may send',
        params: idParams,
        response: { 200: json('the application; its `ETag` is its version', applicationResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { row, stream, context } = loadApplication(app.engine, actor, request.params.id);
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
        registrationNo: row.registrationNo,
        awardedKopecks: context.awardedKopecks,
        allowedEvents: allowedEventTypes(applicationOptions(app.engine, actor, stream)),
      });
    },
  );

  api.post(
    '/api/applications/:id/events',
    {
      config: { access: access.applicationEvents },
      schema: {
        tags,
        summary: 'Send an event: update, submit, start-review, return-for-revision, accept, reject, withdraw, score, …',
        description:
          'The body is `{type, expectedVersion, …payload}`; `expectedVersion` may come as `If-Match: "N"` instead. The engine checks the role, the version, the payload of the type and whether the state takes it now.',
        params: idParams,
        body: eventEnvelope,
        documentedBody: applicationEventBody,
        response: { 200: json('taken: the new state and version', appliedResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const id = request.params.id;
      const { type, expectedVersion: _ignored, ...payload } = request.body;
      const applied = await app.engine.write(() => sendApplicationEvent(app.engine, actor, id, type, payload, expectedVersionOf(request.body, request.headers['if-match'])));
      return reply.header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version });
    },
  );

  api.get(
    '/api/applications/:id/history',
    {
      config: { access: access.signedIn },
      schema: {
        tags: ['audit'],
        summary: 'Every event of the application, with its hash chain',
        params: idParams,
        response: { 200: json('the events in order', historyResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      const { row } = loadApplication(app.engine, requireActor(request), request.params.id);
      return queries.history(row.streamId).map((event) => ({
        seq: event.seq,
        position: event.position,
        type: event.type,
        payload: JSON.parse(event.payload) as unknown,
        facts: JSON.parse(event.facts) as unknown,
        actor: JSON.parse(event.actor),
        at: event.at,
        from: event.fromState,
        to: event.toState,
        machineId: event.machineId,
        machineVersion: event.machineVersion,
        prevHash: event.prevHash,
        hash: event.hash,
      }));
    },
  );

  api.get(
    '/api/applications/:id/replay',
    {
      config: { access: access.signedIn },
      schema: {
        tags: ['audit'],
        summary: 'The state and the form as they were after event `seq`, and whether replay matches what is stored',
        params: idParams,
        querystring: replayQuery,
        response: { 200: json('the replayed step', replayResponse), ...errors(401, ...pathErrors, 422) },
      },
    },
    async (request) => {
      const { row, stream } = loadApplication(app.engine, requireActor(request), request.params.id);
      const result = replayStream(app.engine.registry, stream, loadStreamEvents(app.db, row.streamId));
      const seq = request.query.seq ?? result.steps.length;
      const step = result.steps.find((s) => s.seq === seq);
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
        data: (context?.form ?? null) as never,
        context,
        matches: step.matches,
        ok: result.ok,
        problems: result.problems,
      };
    },
  );
}
