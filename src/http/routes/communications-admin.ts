import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/roles.ts';
import { NotAllowedError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import type { Translate } from '../../i18n/index.ts';
import { deadlineSettings, saveDeadlineSettings } from '../../workflows/deadlines/settings.ts';
import { informParticipants, informingFacts, informingRecord, informingRound, stageHoldsInforming, whyNotInform } from '../../workflows/informing/rounds.ts';
import { outboxSummary, retryFailed } from '../../workflows/notifications/outbox-admin.ts';
import { resultWords } from '../../workflows/notifications/texts.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { findStage } from '../../workflows/stage/reads.ts';
import type { Lang } from '../../i18n/index.ts';
import type { Db } from '../../db/client.ts';
import { statement } from '../../db/statements.ts';
import type { StageContext } from '../../../machines/stage.ts';
import { access, allows } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import { actorOf, formBody, type Notice } from '../page-kit.ts';
import { isHtmx, requireActor } from '../plugins/auth.ts';
import { idParam } from './params.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errors, idParams, json, pathErrors } from '../api-schemas.ts';
import { informedResponse, informingResponse } from '../communications-schemas.ts';

/** The SMTP server as the admin may see it: the host and port, never a password. */
function smtpHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '?';
  }
}

/** What the stage page shows of informing the participants (stage 7): the button, the record, who got what. */
export function informingView(db: Db, t: Translate, lang: Lang, actor: Actor, programmeId: number, stageKey: string) {
  if (!stageHoldsInforming(stageKey)) return null;
  const round = informingRound(db, programmeId);
  const why = whyNotInform(db, programmeId);
  const stage = statement<[number, string], { snapshot: string }>(db, 'SELECT s.snapshot FROM stages g JOIN streams s ON s.id = g.stream_id WHERE g.programme_id = ? AND g.key = ?').get(programmeId, stageKey);
  const recorded = stage ? ((JSON.parse(stage.snapshot) as { context: StageContext }).context.informed ?? null) : null;
  return {
    round,
    recorded,
    facts: round ? informingFacts(db, programmeId) : null,
    canSend: allows(access.inform, actor.role) && why === null,
    why: why && why !== 'informing.refused.sent' ? t(why) : null,
    rows: round
      ? informingRecord(db, programmeId).map((row) => ({ ...row, result: resultWords(lang, row.params) }))
      : [],
  };
}

const deadlineFields = ['reviewDays', 'answerDays', 'remindDays'] as const;

/**
 * The admin's side of communications (issue 12): whether e-mail is on and what failed, the
 * programme's deadlines; and the coordinator's action that sends the participants their results.
 */
export async function communicationsAdminRoutes(app: FastifyInstance) {
  const now = () => app.engine.now();

  app.get('/admin/mail', { config: { access: access.admin } }, async (request, reply) => {
    const summary = outboxSummary(app.db);
    const mail = app.communications.mail;
    const done = (request.query as Record<string, unknown> | undefined)?.done === 'retry';
    return reply.page('pages/admin-mail.eta', {
      title: request.t('mail.title'),
      mail: mail ? { host: smtpHost(mail.smtpUrl), from: mail.from } : null,
      publicUrl: app.communications.publicUrl,
      summary,
      notice: done ? ({ tone: 'success', text: request.t('mail.retried') } satisfies Notice) : null,
    });
  });

  app.post('/admin/mail/:id/retry', { config: { access: access.admin } }, async (request, reply) => {
    retryFailed(app.db, idParam(request.params), now());
    return reply.redirect('/admin/mail?done=retry', 303);
  });

  function deadlinesPage(request: FastifyRequest, reply: FastifyReply, programmeId: number, values: Record<string, unknown> | null, problems: Record<string, string>, notice: Notice | null, status = 200) {
    const programme = findProgramme(app.db, programmeId);
    if (!programme) throw new NotFoundError();
    const settings = deadlineSettings(app.db, programmeId);
    return reply.page('pages/programme-deadlines.eta', { title: request.t('deadlines.title', { title: programme.title }), programme, settings, values: values ?? settings, problems, notice, fields: deadlineFields }, status);
  }

  app.get('/programmes/:id/deadlines', { config: { access: access.admin } }, async (request, reply) => {
    const done = (request.query as Record<string, unknown> | undefined)?.done === 'saved';
    return deadlinesPage(request, reply, idParam(request.params), null, {}, done ? { tone: 'success', text: request.t('deadlines.saved') } : null);
  });

  app.post('/programmes/:id/deadlines', { config: { access: access.admin } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    if (!findProgramme(app.db, programmeId)) throw new NotFoundError();
    const body = formBody(request);
    const typed: Record<string, unknown> = {};
    const input: Record<string, unknown> = {};
    for (const field of deadlineFields) {
      const text = bodyText(body, field)?.trim() ?? '';
      typed[field] = text;
      input[field] = /^\d{1,4}$/.test(text) ? Number(text) : text;
    }
    try {
      saveDeadlineSettings(app.db, actor, programmeId, input, now());
      return reply.redirect(`/programmes/${programmeId}/deadlines?done=saved`, 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const problems: Record<string, string> = {};
      for (const problem of error.problems) problems[problem.field] ??= request.t(problem.code.startsWith('deadlines.') ? problem.code : 'deadlines.invalid');
      return deadlinesPage(request, reply, programmeId, typed, problems, { tone: 'error', text: request.t('form.errors', { count: Object.keys(problems).length }) }, 422);
    }
  });

  /** Sends the results and answers with the stage page (or its path for a plain browser). */
  app.post('/programmes/:id/stages/:no/inform', { config: { access: access.inform } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    const no = idParam(request.params, 'no');
    const stage = findStage(app.db, programmeId, no);
    if (!stageHoldsInforming(stage.key)) throw new NotFoundError();
    try {
      await app.engine.write(() => informParticipants(app.engine, app.communications.outbox, actor, programmeId));
    } catch (error) {
      if (!(error instanceof NotAllowedError)) throw error;
      return reply.page('pages/error.eta', { title: request.t('error.422'), status: 422, message: request.t(error.reason ?? 'informing.refused.sent') }, 422);
    }
    if (isHtmx(request)) return reply.header('HX-Redirect', `/programmes/${programmeId}/stages/${no}#informing`).code(204).send();
    return reply.redirect(`/programmes/${programmeId}/stages/${no}#informing`, 303);
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['informing'];

  api.get(
    '/api/programmes/:id/informing',
    {
      config: { access: access.staff },
      schema: { tags, summary: 'Whether the participants were sent their results (stage 7), and what became of each delivery', params: idParams, response: { 200: json('the delivery record', informingResponse), ...errors(401, 403, ...pathErrors) } },
    },
    async (request) => {
      requireActor(request);
      const programmeId = request.params.id;
      if (!findProgramme(app.db, programmeId)) throw new NotFoundError();
      const round = informingRound(app.db, programmeId);
      return {
        sent: round !== null,
        sentAt: round?.sentAt ?? null,
        facts: round ? informingFacts(app.db, programmeId) : null,
        deliveries: round
          ? informingRecord(app.db, programmeId).map((row) => ({ notification: row.id, login: row.login, applicationId: row.applicationId, createdAt: row.createdAt, mail: { state: row.mailState, to: row.mailTo, sentAt: row.sentAt, attempts: row.attempts, error: row.lastError } }))
          : [],
      };
    },
  );

  api.post(
    '/api/programmes/:id/informing',
    {
      config: { access: access.inform },
      schema: {
        tags,
        summary: 'Send every applicant of the programme the result of their applications, with the protocol’s link (after the decision, while stage 7 runs, once)',
        params: idParams,
        response: { 201: json('sent: how many notifications, and the delivery record so far', informedResponse), ...errors(401, 403, ...pathErrors, [422, 'no decision yet, stage 7 not running, or sent already (`reason`)']) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const programmeId = request.params.id;
      const result = await app.engine.write(() => informParticipants(app.engine, app.communications.outbox, actor, programmeId));
      return reply.code(201).send({ notifications: result.notifications, facts: informingFacts(app.db, programmeId) });
    },
  );
}
