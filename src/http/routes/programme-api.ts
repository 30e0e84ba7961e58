import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../engine/errors.ts';
import { findProgramme, listProgrammes } from '../../read/applications.ts';
import { requireActor } from '../plugins/auth.ts';
import { idParam } from './params.ts';

export async function programmeApi(app: FastifyInstance) {
  app.get('/api/programmes', async (request) => {
    requireActor(request);
    return listProgrammes(app.db);
  });

  app.get('/api/programmes/:id', async (request) => {
    requireActor(request);
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    return programme;
  });
}
