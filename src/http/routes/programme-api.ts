import type { FastifyInstance } from 'fastify';
import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import { createProgramme } from '../../workflows/programme/create.ts';
import { findProgramme, listProgrammes } from '../../workflows/programme/reads.ts';
import { sendStageEvent } from '../../workflows/stage/commands.ts';
import { programmeStages, type StageView } from '../../workflows/stage/overview.ts';
import { translator } from '../../i18n/index.ts';
import { requireActor } from '../plugins/auth.ts';
import { access } from '../authorization.ts';
import { expectedVersionOf, idParam, objectBody } from './params.ts';

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
  const now = () => app.engine.now();

  app.get('/api/programmes', { config: { access: access.signedIn } }, async (request) => {
    requireActor(request);
    return listProgrammes(app.db);
  });

  app.post('/api/programmes', { config: { access: access.createProgramme } }, async (request, reply) => {
    const actor = requireActor(request);
    const programme = createProgramme(app.engine, actor, objectBody(request.body));
    return reply.code(201).send({ ...programme, stages: programmeStages(app.engine, actor, programme.id, programme.timeZone, now()).map(stageJson) });
  });

  app.get('/api/programmes/:id', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    return { ...programme, stages: programmeStages(app.engine, actor, programme.id, programme.timeZone, now()).map(stageJson) };
  });

  app.post('/api/programmes/:id/stages/:no/events', { config: { access: access.stageEvents } }, async (request, reply) => {
    const actor = requireActor(request);
    const programmeId = idParam(request.params);
    const no = idParam(request.params, 'no');
    if (!findProgramme(app.db, programmeId)) throw new NotFoundError();
    const body = objectBody(request.body);
    const { type, expectedVersion: _ignored, ...payload } = body;
    if (typeof type !== 'string' || type.length > 64) throw new ValidationError('type is required', [{ field: 'type', code: 'required' }]);
    const applied = sendStageEvent(app.engine, actor, programmeId, no, type, payload, expectedVersionOf(body, request.headers['if-match']));
    return reply.header('ETag', `"${applied.version}"`).send({ no, state: applied.state, version: applied.version });
  });
}
