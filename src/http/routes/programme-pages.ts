import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/roles.ts';
import { ConflictError, DomainError, NotFoundError } from '../../engine/errors.ts';
import { findStage, sendStageEvent, stageReads } from '../../engine/stages.ts';
import { findProgramme, listProgrammes, applicationQueries } from '../../read/applications.ts';
import { applicationCountsOf, localToday, programmeStages, type StageView } from '../../read/programmes.ts';
import { stageDefinitions, type StageFacts } from '../../../machines/stages.ts';
import { refusalText } from '../refusals.ts';
import { currentStatechart } from '../../audit/views.ts';
import type { Translate } from '../../i18n/index.ts';
import { renderTimeline } from '../charts/timeline.ts';
import { bodyText } from '../forms.ts';
import { isHtmx, pageActor } from '../plugins/auth.ts';
import { idParam } from './params.ts';
import { access, allows } from '../authorization.ts';
import type { EventRow } from '../../engine/engine.ts';
import type { Actor as EventActor } from '../../domain/roles.ts';

interface Notice {
  tone: 'info' | 'success' | 'warning' | 'error';
  text: string;
}

/** What each stage holds now, in words: "Подана 9 · На проверке 5". */
function holdsText(t: Translate, stage: StageView, counts: Record<string, number>): string {
  return stage.holdsStates
    .map((state) => ({ state, count: counts[state] ?? 0 }))
    .filter((h) => h.count > 0)
    .map((h) => `${t(`state.${h.state}`)} ${h.count}`)
    .join(' · ');
}

function stageHistoryRow(t: Translate, lang: 'ru' | 'en', event: EventRow, stageKey: string) {
  const actor = JSON.parse(event.actor) as EventActor;
  const payload = JSON.parse(event.payload) as Record<string, unknown>;
  const details: string[] = [];
  const definition = stageDefinitions.find((d) => d.key === stageKey);
  if (typeof payload.task === 'string') details.push(`${t('field.task')}: ${definition?.tasks.find((task) => task.key === payload.task)?.[lang] ?? payload.task}`);
  if (typeof payload.plannedStart === 'string') details.push(`${t('field.plannedStart')}: ${payload.plannedStart}`);
  if (typeof payload.plannedEnd === 'string') details.push(`${t('field.plannedEnd')}: ${payload.plannedEnd}`);
  if (typeof payload.reason === 'string') details.push(`${t('field.reason')}: ${payload.reason}`);
  return { seq: event.seq, at: event.at, actor, type: event.type, from: event.fromState, to: event.toState, details, hash: event.hash };
}

/** The coordinator's pages: the programme overview with its timeline, and each stage's page. */
export async function programmePages(app: FastifyInstance) {
  const queries = applicationQueries(app.db);
  const reads = stageReads(app.db);

  app.get('/programmes', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    return reply.page('pages/programmes.eta', { title: request.t('programme.list'), programmes: listProgrammes(app.db), canCreate: allows(access.createProgramme, actor.role) });
  });

  app.get('/programmes/:id', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    const now = app.engine.now();
    const stages = programmeStages(app.engine, actor, programme.id, programme.timeZone, now);
    const counts = applicationCountsOf(app.db, programme.id);
    const t = request.t;
    // After the new-programme form's redirect (programme-create-pages.ts).
    const created = (request.query as Record<string, unknown> | undefined)?.done === 'created';
    const rows = stages.map((stage) => ({ ...stage, holds: holdsText(t, stage, counts), href: `/programmes/${programme.id}/stages/${stage.no}` }));
    const timeline = renderTimeline(
      rows.map((stage) => ({
        no: stage.no,
        title: stage.title[request.lang],
        state: stage.state,
        stateLabel: t(`state.${stage.state}`),
        plannedStart: stage.plannedStart,
        plannedEnd: stage.plannedEnd,
        startedAt: stage.startedAt,
        completedAt: stage.completedAt,
        overdue: stage.overdue,
        href: stage.href,
        holds: stage.holds,
      })),
      now,
      {
        title: t('programme.timelineTitle', { title: programme.title }),
        description: t('programme.timelineDesc'),
        today: `${t('programme.today')} ${localToday(programme.timeZone, now)}`,
        overdue: t('programme.overdue'),
        planned: t('programme.planned'),
        actual: t('programme.actual'),
        monthNames: t('programme.months').split(','),
      },
    );
    return reply.page('pages/programme.eta', {
      title: programme.title,
      programme,
      stages: rows,
      timeline,
      counts,
      totalApplications: Object.values(counts).reduce((a, b) => a + b, 0),
      notice: created ? ({ tone: 'success', text: t('programmes.new.created') } satisfies Notice) : null,
    });
  });

  /** The stage page's data, fresh: checklist, dates, history, buttons, and why completing is blocked. */
  function stageView(request: FastifyRequest, actor: Actor, programmeId: number, no: number, extras: Record<string, unknown> = {}) {
    const programme = findProgramme(app.db, programmeId);
    if (!programme) throw new NotFoundError();
    const row = findStage(app.engine, programmeId, no);
    const stage = programmeStages(app.engine, actor, programmeId, programme.timeZone, app.engine.now()).find((s) => s.no === no)!;
    const definition = stageDefinitions.find((d) => d.key === stage.key)!;
    const t = request.t;
    const blockers: string[] = [];
    if (stage.state === 'active') {
      const open = stage.tasks.filter((task) => !task.done).length;
      if (open > 0) blockers.push(t('stage.refused.tasks-open', { count: open }));
      const verdict = definition.exit(reads.stageFacts(programmeId) as StageFacts);
      if (!verdict.holds) {
        const params = { ...(verdict.params ?? {}) };
        if (typeof params.stage === 'string') params.stage = stageDefinitions.find((d) => d.key === params.stage)?.title[request.lang] ?? params.stage;
        blockers.push(t(`stage.exit.${verdict.code}`, params));
      }
    }
    return {
      title: t('stage.title', { no, title: stage.title[request.lang] }),
      programme,
      stage,
      blockers,
      ownsEvents: definition.ownsEvents,
      actions: stage.allowedEvents.filter((type) => ['start', 'complete', 'reopen'].includes(type)),
      canTick: stage.allowedEvents.includes('complete-task') || stage.allowedEvents.includes('reopen-task'),
      canSchedule: stage.allowedEvents.includes('schedule'),
      history: queries.history(row.streamId).map((event) => stageHistoryRow(t, request.lang, event, stage.key)),
      statechart: currentStatechart(t, app.engine, row.streamId),
      notice: null as Notice | null,
      ...extras,
    };
  }

  async function showStage(request: FastifyRequest, reply: FastifyReply, actor: Actor, programmeId: number, no: number, status = 200, extras: Record<string, unknown> = {}) {
    return reply.page('pages/stage.eta', stageView(request, actor, programmeId, no, extras), status);
  }

  app.get('/programmes/:id/stages/:no', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    return showStage(request, reply, actor, idParam(request.params), idParam(request.params, 'no'));
  });

  app.post('/programmes/:id/stages/:no/events', { config: { access: access.stageEvents } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const programmeId = idParam(request.params);
    const no = idParam(request.params, 'no');
    findStage(app.engine, programmeId, no);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const type = bodyText(body, 'type') ?? '';
    const versionText = bodyText(body, 'expectedVersion') ?? '';
    const expectedVersion = /^\d{1,9}$/.test(versionText) ? Number(versionText) : 0;
    const payload: Record<string, unknown> = {};
    for (const name of ['task', 'reason', 'plannedStart', 'plannedEnd']) {
      const value = bodyText(body, name);
      if (value !== undefined) payload[name] = name === 'reason' ? value.trim() : value;
    }
    try {
      sendStageEvent(app.engine, actor, programmeId, no, type, payload, expectedVersion);
    } catch (error) {
      if (error instanceof ConflictError) return showStage(request, reply, actor, programmeId, no, 409, { notice: { tone: 'warning', text: request.t('stage.stale') } });
      if (error instanceof DomainError && error.status !== 404) {
        return showStage(request, reply, actor, programmeId, no, error.status, {
          notice: { tone: 'error', text: request.t('stage.refused', { message: refusalText(request.t, request.lang, error) }) },
        });
      }
      throw error;
    }
    if (isHtmx(request)) return showStage(request, reply, actor, programmeId, no, 200, { notice: { tone: 'success', text: request.t('stage.done', { event: request.t(`event.${type}`) }) } });
    return reply.redirect(`/programmes/${programmeId}/stages/${no}`, 303);
  });
}

