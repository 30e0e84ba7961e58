import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../engine/errors.ts';
import { programmeDashboard } from '../../workflows/programme/dashboard.ts';
import { findProgramme, listProgrammes } from '../../workflows/programme/reads.ts';
import { access } from '../authorization.ts';
import { dashboardResponse, errors, idParams, json, pathErrors } from '../api-schemas.ts';
import { dashboardPageModel } from '../dashboard-view.ts';
import { defaultProgramme } from '../queue-view.ts';
import { idParam } from './params.ts';

/**
 * The coordinator's dashboard (issue 13): `/dashboard`, the coordinator's landing page, opens the
 * current programme's; `/programmes/:id/dashboard` and `GET /api/programmes/:id/dashboard` give
 * the same figures as a page and as JSON.
 */
export async function dashboardRoutes(app: FastifyInstance) {
  app.get('/dashboard', { config: { access: access.dashboard } }, async (_request, reply) => {
    const programme = defaultProgramme(app.db, app.engine.now());
    return reply.redirect(programme ? `/programmes/${programme.id}/dashboard` : '/programmes', 303);
  });

  app.get('/programmes/:id/dashboard', { config: { access: access.dashboard } }, async (request, reply) => {
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    const now = app.engine.now();
    const dashboard = programmeDashboard(app.db, programme, now);
    return reply.page('pages/dashboard.eta', {
      ...dashboardPageModel(request.t, request.lang, programme, dashboard, now),
      otherProgrammes: listProgrammes(app.db).filter((p) => p.id !== programme.id),
    });
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/programmes/:id/dashboard',
    {
      config: { access: access.dashboard },
      schema: {
        tags: ['programmes'],
        summary: 'The coordinator’s dashboard: stages and lateness, applications by municipality × state, the fund, waiting times per state, reviewers’ workload',
        description:
          'Coordinator, admin and auditor. The figures the page `/programmes/:id/dashboard` shows. Waiting times are the median and the 90th percentile (nearest rank) of the finished stays in each state that is not final, read from the event log (`from_state`, `to_state`, `at`); the applications in a state now are counted apart (`now`, `longestSince`).',
        params: idParams,
        response: { 200: json('the dashboard’s figures', dashboardResponse), ...errors(401, 403, ...pathErrors) },
      },
    },
    async (request) => {
      const programme = findProgramme(app.db, request.params.id);
      if (!programme) throw new NotFoundError();
      return programmeDashboard(app.db, programme, app.engine.now());
    },
  );
}
