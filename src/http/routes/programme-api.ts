import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../engine/errors.ts';
import { createProgramme } from '../../workflows/programme/create.ts';
import { findProgramme, listProgrammes } from '../../workflows/programme/reads.ts';
import { sendStageEvent } from '../../workflows/stage/commands.ts';
import { programmeStages, type StageView } from '../../workflows/stage/overview.ts';
import { translator } from '../../i18n/index.ts';
import { requireActor } from '../plugins/auth.ts';
import { access } from '../authorization.ts';
import {
  bodyErrors,
  pathErrors,
  errors,
  eventEnvelope,
  idParams,
  json,
  programmeBody,
  programmeResponse,
  programmeWithStagesResponse,
  stageAppliedResponse,
  stageEventBody,
  stageParams,
} from '../api-schemas.ts';
import { expectedVersionOf } from './params.ts';

const ru = translator('ru');
const en = translator('en');

/** A stage in the API's shape: its names in both languages from the catalogues, what this actor may send now. */
function stageJson(stage: StageView) {
  const { options: _options, ...shown } = stage;
  return {
    ...shown,
    title: { ru: ru(`stage.name.${stage.key}`), en: en(`stage.name.${stage.key}`) },
    tasks: stage.tasks.map((task) => ({ ...task, title: { ru: ru(`stage.task.${stage.key}.${task.key}`), en: en(`stage.task.${stage.key}.${task.key}`) } })),
  };
}

/** Programmes and their stages through the JSON API (DESIGN §6). */
export async function programmeApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const now = () => app.engine.now();
  const tags = ['programmes'];

  api.get(
    '/api/programmes',
    {
      config: { access: access.signedIn },
      schema: { tags, summary: 'The programmes, the latest year first', response: { 200: json('the programmes', programmeResponse.array()), ...errors(401) } },
    },
    async (request) => {
      requireActor(request);
      return listProgrammes(app.db);
    },
  );

  api.post(
    '/api/programmes',
    {
      config: { access: access.createProgramme },
      schema: {
        tags,
        summary: 'Create a programme with its twelve stages, planned',
        body: programmeBody,
        response: { 201: json('created, with its stages', programmeWithStagesResponse), ...errors(401, 403, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const programme = await app.engine.write(() => createProgramme(app.engine, actor, request.body));
      return reply.code(201).send({ ...programme, stages: programmeStages(app.engine, actor, programme.id, programme.timeZone, now()).map(stageJson) });
    },
  );

  api.get(
    '/api/programmes/:id',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'One programme with its stages, each with its tasks and the stage events this user may send',
        params: idParams,
        response: { 200: json('the programme', programmeWithStagesResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const programme = findProgramme(app.db, request.params.id);
      if (!programme) throw new NotFoundError();
      return { ...programme, stages: programmeStages(app.engine, actor, programme.id, programme.timeZone, now()).map(stageJson) };
    },
  );

  api.post(
    '/api/programmes/:id/stages/:no/events',
    {
      config: { access: access.stageEvents },
      schema: {
        tags,
        summary: 'Send a stage event: schedule, start, complete-task, reopen-task, complete, reopen',
        description: 'The body is `{type, expectedVersion, …payload}`; `expectedVersion` may come as `If-Match: "N"` instead.',
        params: stageParams,
        body: eventEnvelope,
        documentedBody: stageEventBody,
        response: { 200: json('taken: the stage’s new state and version', stageAppliedResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { id: programmeId, no } = request.params;
      if (!findProgramme(app.db, programmeId)) throw new NotFoundError();
      const { type, expectedVersion: _ignored, ...payload } = request.body;
      const applied = await app.engine.write(() => sendStageEvent(app.engine, actor, programmeId, no, type, payload, expectedVersionOf(request.body, request.headers['if-match'])));
      return reply.header('ETag', `"${applied.version}"`).send({ no, state: applied.state, version: applied.version });
    },
  );
}
