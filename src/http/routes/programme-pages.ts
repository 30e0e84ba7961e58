import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/roles.ts';
import { ConflictError, NotFoundError } from '../../engine/errors.ts';
import type { EventRow } from '../../engine/engine.ts';
import type { Actor as EventActor } from '../../domain/roles.ts';
import type { Translate } from '../../i18n/index.ts';
import { applicationQueries } from '../../read/applications.ts';
import { findProgramme, listProgrammes } from '../../workflows/programme/reads.ts';
import { completionBlockers, programmeStages } from '../../workflows/stage/overview.ts';
import { findStage, stageReads } from '../../workflows/stage/reads.ts';
import { sendStageEvent } from '../../workflows/stage/commands.ts';
import { stageRunning } from '../../../machines/stage.ts';
import { zoneLabel } from '../../domain/time.ts';
import { currentStatechart } from '../../audit/views.ts';
import { access, allows } from '../authorization.ts';
import { holdsText, programmeTimeline } from '../programme-timeline.ts';
import { bodyText } from '../forms.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, type Notice } from '../page-kit.ts';
import { isHtmx } from '../plugins/auth.ts';
import { blockerText, doneText, refusalText, stageName } from '../refusals.ts';
import { idParam } from './params.ts';
import { projectListStages, stageProjects, type RowProblems } from '../stage-projects-view.ts';
import { describeProblem, problemsByField } from '../application-view.ts';
import { readEventPayload, typedValues } from '../forms.ts';
import { sendApplicationEvent } from '../../workflows/application/commands.ts';
import { ValidationError } from '../../engine/errors.ts';
import { applicationLabel } from '../../workflows/application/registration.ts';
import { findApplication } from '../../workflows/application/reads.ts';
import { stageJournalEvidence } from '../journal-view.ts';
import { informingView } from './communications-admin.ts';
import { DEFAULT_PROGRAMME_CODE, exampleRegistrationNo } from './register-routes.ts';

/** The first `length` characters of a text on one line, with an ellipsis when it is longer. */
function excerpt(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length).trimEnd()}…` : line;
}

function stageHistoryRow(t: Translate, event: EventRow, stageKey: string) {
  const actor = JSON.parse(event.actor) as EventActor;
  const payload = JSON.parse(event.payload) as Record<string, unknown>;
  const details: string[] = [];
  if (typeof payload.task === 'string') details.push(`${t('field.task')}: ${t(`stage.task.${stageKey}.${payload.task}`)}`);
  if (typeof payload.plannedStart === 'string') details.push(`${t('field.plannedStart')}: ${payload.plannedStart}`);
  if (typeof payload.plannedEnd === 'string') details.push(`${t('field.plannedEnd')}: ${payload.plannedEnd}`);
  if (typeof payload.reason === 'string') details.push(`${t('field.reason')}: ${payload.reason}`);
  // The closing stage's recommendations (issue 13): the opening of the text; the whole of it is on the report's page.
  if (event.type === 'record-recommendations' && typeof payload.text === 'string') details.push(`${t('report.recommendations.field')}: ${excerpt(payload.text, 200)}`);
  return { seq: event.seq, at: event.at, actor, type: event.type, from: event.fromState, to: event.toState, details, hash: event.hash };
}

/** The stage events that are buttons on the stage page; ticking tasks and dates have their own forms. */
const stageButtons = ['start', 'complete', 'reopen'];

/** The coordinator's pages: the programme overview with its timeline, and each stage's page. */
export async function programmePages(app: FastifyInstance) {
  const queries = applicationQueries(app.db);
  const reads = stageReads(app.db);

  app.get('/programmes', { config: { access: access.signedIn } }, async (request, reply) => {
    return reply.page('pages/programmes.eta', { title: request.t('programme.list'), programmes: listProgrammes(app.db), canCreate: allows(access.createProgramme, actorOf(request).role) });
  });

  app.get('/programmes/:id', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    const now = app.engine.now();
    const stages = programmeStages(app.engine, actor, programme.id, programme.timeZone, now);
    const counts = reads.applicationCounts(programme.id);
    const t = request.t;
    // After the new-programme form's redirect (programme-create-pages.ts).
    const done = (request.query as Record<string, unknown> | undefined)?.done;
    const created = done === 'created';
    const rows = stages.map((stage) => ({
      ...stage,
      title: stageName(t, stage.key),
      running: stageRunning(stage.state),
      holds: holdsText(t, stage.holdsStates, counts),
      href: `/programmes/${programme.id}/stages/${stage.no}`,
    }));
    const timeline = programmeTimeline(
      t,
      programme,
      // The timeline reads the fields it draws; the rest of each row stays out of it.
      rows,
      now,
    );
    return reply.page('pages/programme.eta', {
      title: programme.title,
      programme,
      stages: rows,
      timeline,
      counts,
      totalApplications: Object.values(counts).reduce((a, b) => a + b, 0),
      notice: created
        ? ({ tone: 'success', text: t('programmes.new.created') } satisfies Notice)
        : done === 'code-saved'
          ? ({ tone: 'success', text: t('programme.codeSaved') } satisfies Notice)
          : done === 'code-invalid'
            ? ({ tone: 'error', text: t('programme.codeInvalid') } satisfies Notice)
            : done === 'savings-saved'
              ? ({ tone: 'success', text: t('programme.savingsSaved') } satisfies Notice)
              : done === 'savings-invalid'
                ? ({ tone: 'error', text: t('programme.savingsInvalid') } satisfies Notice)
                : null,
      exampleNo: exampleRegistrationNo(programme),
      defaultCode: DEFAULT_PROGRAMME_CODE,
    });
  });

  /** The stage page's data, fresh: checklist, dates, history, buttons, and why completing is blocked. */
  function stageView(request: FastifyRequest, actor: Actor, programmeId: number, no: number, extras: Record<string, unknown> = {}) {
    const programme = findProgramme(app.db, programmeId);
    if (!programme) throw new NotFoundError();
    const row = findStage(app.db, programmeId, no);
    const stage = programmeStages(app.engine, actor, programmeId, programme.timeZone, app.engine.now()).find((s) => s.no === no)!;
    const t = request.t;
    const stream = app.engine.loadStream(row.streamId)!;
    // The stage's own rules (`whyNotStage`) say what holds completion back, as the coordinator would be told on pressing it.
    const blockers = stageRunning(stage.state) ? completionBlockers(stage).map((problem) => blockerText(t, problem)) : null;
    return {
      title: t('stage.title', { no, title: stageName(t, stage.key) }),
      programme,
      stage: { ...stage, tasks: stage.tasks.map((task) => ({ ...task, title: t(`stage.task.${stage.key}.${task.key}`) })) },
      blockers,
      ownsEvents: stage.ownsEvents,
      actions: stage.options.filter((option) => stageButtons.includes(option.type)).map((option) => ({ type: option.type, blocked: !option.open })),
      canTick: stage.allowedEvents.includes('complete-task') || stage.allowedEvents.includes('reopen-task'),
      canSchedule: stage.allowedEvents.includes('schedule'),
      history: queries.history(row.streamId).map((event) => stageHistoryRow(t, event, stage.key)),
      historyCaption: t('stage.historyCaption', { zone: `${programme.timeZone}, ${zoneLabel(programme.timeZone)}` }),
      statechart: currentStatechart(t, app.engine, stream),
      // The tasks the programme journal evidences, with their entries (issue 14).
      evidence: stageJournalEvidence(app.engine, actor, programmeId, stage.key, t),
      // Stage 7 sends the participants their results and shows who got them (issue 12).
      informing: informingView(app.db, t, request.lang, actor, programmeId, stage.key),
      // Stages 8–11 (issue 11): the projects the stage holds, with what each still misses.
      projects: projectListStages.has(stage.key) ? stageProjects(app, request, actor, programmeId, no, stage.holdsStates, (extras.rowProblems as RowProblems | undefined) ?? null) : null,
      notice: null as Notice | null,
      ...extras,
    };
  }

  async function showStage(request: FastifyRequest, reply: FastifyReply, programmeId: number, no: number, status = 200, extras: Record<string, unknown> = {}) {
    return reply.page('pages/stage.eta', stageView(request, actorOf(request), programmeId, no, extras), status);
  }

  app.get('/programmes/:id/stages/:no', { config: { access: access.signedIn } }, async (request, reply) => showStage(request, reply, idParam(request.params), idParam(request.params, 'no')));

  app.post('/programmes/:id/stages/:no/events', { config: { access: access.stageEvents } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    const no = idParam(request.params, 'no');
    findStage(app.db, programmeId, no);
    const body = formBody(request);
    const type = bodyText(body, 'type') ?? '';
    const payload: Record<string, unknown> = {};
    for (const name of ['task', 'reason', 'plannedStart', 'plannedEnd', 'text']) {
      const value = bodyText(body, name);
      if (value !== undefined) payload[name] = name === 'reason' || name === 'text' ? value.trim() : value;
    }
    const sent = await attemptWrite(app.engine, () => sendStageEvent(app.engine, actor, programmeId, no, type, payload, formVersion(body)));
    if (!sent.ok) {
      if (sent.error instanceof ConflictError) return showStage(request, reply, programmeId, no, 409, { notice: { tone: 'warning', text: request.t('stage.stale') } });
      return showStage(request, reply, programmeId, no, sent.status, { notice: { tone: 'error', text: request.t('stage.refused', { message: refusalText(request.t, request.lang, sent.error) }) } });
    }
    if (isHtmx(request)) return showStage(request, reply, programmeId, no, 200, { notice: { tone: 'success', text: request.t('stage.done', { event: doneText(request.t, type, 'stage.') }) } });
    return reply.redirect(`/programmes/${programmeId}/stages/${no}`, 303);
  });

  // The coordinator records a payment from the stage 8 list (issue 11) without opening each project: back to the list, or the error beside its row.
  app.post('/programmes/:id/stages/:no/contributions', { config: { access: access.recordContribution } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    const no = idParam(request.params, 'no');
    findStage(app.db, programmeId, no);
    const body = formBody(request);
    const idText = bodyText(body, 'applicationId') ?? '';
    if (!/^\d{1,9}$/.test(idText)) throw new NotFoundError();
    const id = Number(idText);
    const row = findApplication(app.db, actor, id);
    if (row.programmeId !== programmeId) throw new NotFoundError();
    const back = `/programmes/${programmeId}/stages/${no}`;
    const refuse = (status: number, text: string, problems: Record<string, string>) =>
      showStage(request, reply, programmeId, no, status, { notice: { tone: status === 409 ? 'warning' : 'error', text } satisfies Notice, rowProblems: { id, problems, values: typedValues('record-contribution', body) } });
    const { payload, problems } = readEventPayload('record-contribution', body, request.lang);
    const words = (list: { field: string; code: string }[]) => list.map((p) => describeProblem(request.t, request.lang, p)).join(' ');
    if (problems.length > 0) return refuse(422, request.t('app.refused', { message: words(problems) }), problemsByField(request.t, request.lang, problems));
    const sent = await attemptWrite(app.engine, () => sendApplicationEvent(app.engine, actor, id, 'record-contribution', payload, formVersion(body)));
    if (!sent.ok) {
      if (sent.error instanceof ConflictError) return refuse(409, request.t('app.stale'), {});
      if (sent.error instanceof ValidationError) return refuse(422, request.t('app.refused', { message: words(sent.error.problems) }), problemsByField(request.t, request.lang, sent.error.problems));
      return refuse(sent.status, request.t('app.refused', { message: refusalText(request.t, request.lang, sent.error) }), {});
    }
    const notice: Notice = { tone: 'success', text: request.t('impl.paymentRecorded', { no: applicationLabel(row) }) };
    if (isHtmx(request)) return showStage(request, reply, programmeId, no, 200, { notice });
    return reply.redirect(`${back}#stage-projects`, 303);
  });
}
