import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ConflictError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { programmeReport } from '../../read/report.ts';
import { findProgramme, type ProgrammeRow } from '../../workflows/programme/reads.ts';
import { sendStageEvent } from '../../workflows/stage/commands.ts';
import { stageReads } from '../../workflows/stage/reads.ts';
import { recommendationsStage } from '../../../machines/stage.ts';
import { access, allows } from '../authorization.ts';
import { errors, idParams, json, pathErrors, reportXlsxResponse } from '../api-schemas.ts';
import { contentDisposition } from '../content-disposition.ts';
import { reportXlsx } from '../exports/report.ts';
import { bodyText } from '../forms.ts';
import { actorOf, attemptWrite, formBody, formVersion, type Notice } from '../page-kit.ts';
import { refusalText } from '../refusals.ts';
import { reportResponse } from '../report-schemas.ts';
import { reportView } from '../report-view.ts';
import { idParam } from './params.ts';

/**
 * The analytical report of stage 12 (issue 13): the page (printable on A4), its XLSX — the
 * programme's open data with the register's CSV — and `GET /api/programmes/:id/report`; and the
 * coordinator's recommendations, recorded as an event of the closing stage.
 */
export async function reportRoutes(app: FastifyInstance) {
  const programmeOf = (request: FastifyRequest): ProgrammeRow => {
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    return programme;
  };
  const reportOf = (programme: ProgrammeRow) => {
    const report = programmeReport(app.db, programme.id);
    if (!report) throw new NotFoundError();
    return report;
  };

  const show = (request: FastifyRequest, reply: FastifyReply, programme: ProgrammeRow, status = 200, extras: { notice?: Notice; problem?: string; draft?: string } = {}) => {
    const report = reportOf(programme);
    const actor = actorOf(request);
    return reply.page(
      'pages/report.eta',
      {
        title: request.t('report.title', { title: programme.title }),
        programme,
        view: reportView(request.t, request.lang, programme.timeZone, report),
        closingStage: report.closingStage,
        mayRecord: allows(access.recordRecommendations, actor.role),
        draft: extras.draft ?? report.recommendations.at(-1)?.text ?? '',
        notice: extras.notice ?? null,
        problem: extras.problem ?? null,
      },
      status,
    );
  };

  app.get('/programmes/:id/report', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    const done = (request.query as Record<string, unknown>).done === 'recommendations';
    return show(request, reply, programme, 200, done ? { notice: { tone: 'success', text: request.t('report.recommendations.saved') } } : {});
  });

  app.get('/programmes/:id/report.xlsx', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    const view = reportView(request.t, request.lang, programme.timeZone, reportOf(programme));
    const buffer = await reportXlsx(request.t, view, app.engine.now());
    return reply
      .header('Content-Disposition', contentDisposition('attachment', `report-${programme.id}-${app.engine.now().toISOString().slice(0, 10)}.xlsx`))
      .header('Cache-Control', 'no-store')
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .send(buffer);
  });

  app.post('/programmes/:id/report/recommendations', { config: { access: access.recordRecommendations } }, async (request, reply) => {
    const programme = programmeOf(request);
    const body = formBody(request);
    const text = bodyText(body, 'text') ?? '';
    const t = request.t;
    const stage = stageReads(app.db).stageByKey(programme.id, recommendationsStage);
    if (!stage) return show(request, reply, programme, 422, { notice: { tone: 'error', text: t('report.recommendations.noStage') }, draft: text });
    if (text.trim() === '') return show(request, reply, programme, 422, { problem: t('report.recommendations.required'), draft: text });
    const sent = await attemptWrite(app.engine, () => sendStageEvent(app.engine, actorOf(request), programme.id, stage.no, 'record-recommendations', { text: text.trim() }, formVersion(body)));
    if (sent.ok) return reply.redirect(`/programmes/${programme.id}/report?done=recommendations#recommendations`, 303);
    if (sent.error instanceof ConflictError) return show(request, reply, programme, 409, { notice: { tone: 'warning', text: t('report.recommendations.stale') }, draft: text });
    if (sent.error instanceof ValidationError) return show(request, reply, programme, 422, { problem: t('report.recommendations.required'), draft: text });
    return show(request, reply, programme, sent.status, { notice: { tone: 'error', text: t('app.refused', { message: refusalText(t, request.lang, sent.error) }) }, draft: text });
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  // The report's XLSX is the programme's open data (README, "Open data"): figures only, no person.
  api.get(
    '/api/programmes/:id/report.xlsx',
    {
      config: { access: access.public },
      schema: {
        tags: ['open data'],
        summary: 'The analytical report as XLSX: the programme’s open data',
        description: 'No sign-in. Sheets: the summary (funds by source, leverage, people, the ledger head), project types, municipalities, kinds of municipality, the applications’ path, and the notes saying how each figure is computed. In Russian unless `lang=en`.',
        params: idParams,
        response: { 200: reportXlsxResponse, ...errors(...pathErrors) },
      },
    },
    async (request, reply) => {
      const programme = findProgramme(app.db, request.params.id);
      if (!programme) throw new NotFoundError();
      const view = reportView(request.t, request.lang, programme.timeZone, reportOf(programme));
      // A workbook, not the JSON the type provider expects of a 200.
      const binary: FastifyReply = reply;
      return binary
        .header('Content-Disposition', contentDisposition('attachment', `report-${programme.id}.xlsx`))
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .send(await reportXlsx(request.t, view, app.engine.now()));
    },
  );

  api.get(
    '/api/programmes/:id/report',
    {
      config: { access: access.staff },
      schema: {
        tags: ['programmes'],
        summary: 'The analytical report: funds by source planned, agreed, received and spent, leverage, beneficiaries, breakdowns, the funnel, the programme before it',
        description: 'Staff only. Money in kopecks; ratios as numbers; shares in basis points. `ledger.head` is the chain head the figures were computed from.',
        params: idParams,
        response: { 200: json('the report', reportResponse), ...errors(401, 403, ...pathErrors) },
      },
    },
    async (request) => {
      const programme = findProgramme(app.db, request.params.id);
      if (!programme) throw new NotFoundError();
      return reportOf(programme);
    },
  );
}
