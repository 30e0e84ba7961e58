import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formFields, projectTypes, totalCostKopecks, type FieldProblem } from '../../domain/application.ts';
import type { Actor } from '../../domain/roles.ts';
import {
  allowedApplicationEvents,
  applicationContext,
  createApplication,
  findApplication,
  sendApplicationEvent,
  type ApplicationRow,
} from '../../engine/applications.ts';
import { ConflictError, DomainError, NotAllowedError, ValidationError } from '../../engine/errors.ts';
import type { EventRow } from '../../engine/engine.ts';
import { formatRoubles } from '../../domain/money.ts';
import type { Translate } from '../../i18n/index.ts';
import { applicationQueries, findProgramme, listFilterSchema, listMunicipalities, listProgrammes } from '../../read/applications.ts';
import { municipalities } from '../../db/schema.ts';
import { sql } from 'drizzle-orm';
import { dangerousEvents, eventFields, fieldKinds, formChanges, readApplicationForm, readEventPayload, bodyText, withEntered } from '../forms.ts';
import { isHtmx, pageActor } from '../plugins/auth.ts';
import { refusalText } from '../refusals.ts';
import { days, renderStateDurations, stateSpans } from '../charts/state-durations.ts';
import { stateTone_ } from '../view-helpers.ts';
import { formatDate } from '../../domain/time.ts';

/** The states an application never leaves: its time in them does not run on. */
const finalStates = new Set(['rejected', 'withdrawn', 'not-awarded', 'closed', 'terminated']);
import { idParam } from './params.ts';
import { currentStatechart } from '../../audit/views.ts';
import { access } from '../authorization.ts';
import { applicationStates } from '../../../machines/application.ts';
import { documentHistoryDetails, documentsCard } from '../documents-view.ts';
import { documentPages } from './document-pages.ts';

const reviewQueueStates = ['submitted', 'under-review', 'returned'];

interface Notice {
  tone: 'info' | 'success' | 'warning' | 'error';
  text: string;
  items?: string[];
}

/** A problem in words: the field's label and what is wrong with it. */
export function describeProblem(t: Translate, lang: 'ru' | 'en', problem: FieldProblem): string {
  const params: Record<string, string | number> = { ...(problem.params ?? {}) };
  if (typeof params.cap === 'number') params.cap = formatRoubles(params.cap, lang);
  if (typeof params.min === 'number') params.min = (params.min / 100).toString();
  if (typeof params.kind === 'string') params.document = t(`field.document.${params.kind}`);
  const known = t(`problem.${problem.code}`);
  const text = known === `problem.${problem.code}` ? (typeof params.message === 'string' ? params.message : t('problem.invalid')) : t(`problem.${problem.code}`, params);
  return text;
}

function problemsByField(t: Translate, lang: 'ru' | 'en', problems: FieldProblem[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const problem of problems) map[problem.field] ??= describeProblem(t, lang, problem);
  return map;
}

/** One history row in words, for the table on every application page. */
function historyRow(t: Translate, money: (k: number) => string, event: EventRow, lang: 'ru' | 'en' = 'ru') {
  const actor = JSON.parse(event.actor) as Actor;
  const payload = JSON.parse(event.payload) as Record<string, unknown>;
  const details: string[] = [];
  const changed = (form: Record<string, unknown>) =>
    Object.entries(form).flatMap(([key, value]) =>
      value !== null && typeof value === 'object' ? Object.keys(value).map((k) => `${key}.${k}`) : [key],
    );
  if (event.type === 'create') details.push(t('app.changed', { fields: changed((payload.form ?? {}) as Record<string, unknown>).map((f) => t(`field.${f}`)).join(', ') }));
  if (event.type === 'update') details.push(t('app.changed', { fields: changed(payload).map((f) => t(`field.${f}`)).join(', ') }));
  if (Array.isArray(payload.remarks)) {
    for (const remark of payload.remarks as { field: string; text: string }[]) details.push(`${t(`field.${remark.field}`)}: ${remark.text}`);
  }
  for (const key of ['reason', 'comment', 'note', 'finding', 'agreementNo', 'contractor'] as const) {
    if (typeof payload[key] === 'string') details.push(`${t(`field.${key}`)}: ${payload[key]}`);
  }
  if (typeof payload.significance === 'number') details.push(t('app.score', { score: payload.significance }));
  if (typeof payload.amountKopecks === 'number') details.push(`${t('field.amountKopecks')}: ${money(payload.amountKopecks)}`);
  if (typeof payload.priceKopecks === 'number') details.push(`${t('field.priceKopecks')}: ${money(payload.priceKopecks)}`);
  if (typeof payload.percent === 'number') details.push(t('app.progress', { percent: payload.percent }));
  details.push(...documentHistoryDetails(t, lang, event.type, payload));
  return { seq: event.seq, at: event.at, actor, type: event.type, from: event.fromState, to: event.toState, details, hash: event.hash };
}

export async function applicationPages(app: FastifyInstance) {
  const queries = applicationQueries(app.db);
  const municipalityName = app.db
    .select({ name: municipalities.name })
    .from(municipalities)
    .where(sql`${municipalities.id} = ${sql.placeholder('id')}`)
    .prepare();

  /** Everything the application page shows, fresh from the database. */
  function applicationView(request: FastifyRequest, actor: Actor, row: ApplicationRow, extras: Record<string, unknown> = {}) {
    const context = applicationContext(app.engine, row);
    const programme = findProgramme(app.db, row.programmeId)!;
    const money = (k: number) => formatRoubles(k, request.lang);
    const allowed = allowedApplicationEvents(app.engine, actor, row);
    const remarksByField: Record<string, string[]> = {};
    for (const remark of context.remarks) (remarksByField[remark.field] ??= []).push(remark.text);
    const events = queries.history(row.streamId);
    const t = request.t;
    const spans = stateSpans(events.map((e) => ({ at: e.at, to: e.toState })), app.engine.now(), (state) => finalStates.has(state), (state) => ({
      label: t(`state.${state}`),
      tone: stateTone_(state),
    }));
    const durations = renderStateDurations(spans, {
      title: t('app.timeInStates'),
      description: spans.map((span) => `${span.label}: ${t('app.days', { count: Math.round(days(span.from, span.to)) })}`).join('; '),
      daysLabel: (n) => t('app.days', { count: n }),
      dateOf: (iso) => formatDate(iso, programme.timeZone, request.lang),
    });
    return {
      title: `${request.t('app.number', { id: row.id })}: ${row.title || request.t('app.untitled')}`,
      durations,
      statechart: currentStatechart(t, app.engine, row.streamId),
      row,
      context,
      form: context.form,
      total: totalCostKopecks(context.form.costs),
      programme,
      municipality: municipalityName.get({ id: row.municipalityId })?.name ?? '',
      history: events.map((event) => historyRow(request.t, money, event, request.lang)),
      documents: documentsCard(app.engine, actor, row, request.t, request.lang, programme.timeZone),
      canEdit: allowed.includes('update'),
      canReturn: allowed.includes('return-for-revision'),
      actions: allowed
        .filter((type) => type !== 'update')
        .map((type) => ({ type, fields: eventFields[type] ?? [], danger: dangerousEvents.has(type) })),
      // Awards are not buttons here: the commission decides every accepted application at once, by the ranking.
      decisionLink: actor.role === 'commission' && row.state === 'accepted' ? `/programmes/${row.programmeId}/commission` : null,
      remarksByField,
      formFields,
      fieldKinds,
      notice: null as Notice | null,
      eventProblems: {} as Record<string, string>,
      failedEvent: null as string | null,
      ...extras,
    };
  }

  async function showApplication(request: FastifyRequest, reply: FastifyReply, actor: Actor, id: number, status = 200, extras: Record<string, unknown> = {}) {
    const row = findApplication(app.engine, actor, id);
    return reply.page('pages/application.eta', applicationView(request, actor, row, extras), status);
  }
  // Uploads, verdicts, downloads and previews answer with this page (issue 7).
  documentPages(app, showApplication);

  function formView(request: FastifyRequest, values: Record<string, unknown>, problems: FieldProblem[], extras: Record<string, unknown>) {
    const programmes = listProgrammes(app.db);
    return {
      values,
      problems: problemsByField(request.t, request.lang, problems),
      problemList: problems.map((p) => ({ field: p.field, text: describeProblem(request.t, request.lang, p) })),
      projectTypes,
      programmes,
      fieldKinds,
      ...extras,
    };
  }

  app.get('/', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    return reply.redirect(actor.role === 'reviewer' ? '/queue' : '/applications', 303);
  });

  async function listPage(request: FastifyRequest, reply: FastifyReply, queue: boolean) {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const filter = listFilterSchema.parse(request.query ?? {});
    const states = queue ? reviewQueueStates : null;
    const rows = queries.list(actor, filter, states);
    const counts = queries.countsByState(actor, filter, states);
    const stateTabs = (states ?? applicationStates).map((state) => ({ state, count: counts[state] ?? 0 }));
    const own = actor.role === 'applicant' && actor.municipalityId !== null ? municipalityName.get({ id: actor.municipalityId })?.name : undefined;
    return reply.page('pages/applications.eta', {
      title: queue ? request.t('list.queueTitle') : own ? request.t('list.titleMunicipality', { municipality: own }) : request.t('list.title'),
      queue,
      basePath: queue ? '/queue' : '/applications',
      rows,
      filter,
      stateTabs,
      totalCount: Object.values(counts).reduce((a, b) => a + b, 0),
      municipalities: actor.role === 'applicant' ? [] : listMunicipalities(app.db),
      programmes: listProgrammes(app.db),
      projectTypes,
      hasNext: rows.length === 50,
      query: (changes: Record<string, string | number | undefined>) => {
        const merged = { ...filter, page: undefined, ...changes } as Record<string, unknown>;
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(merged)) if (v !== undefined && v !== null && v !== '' && !(k === 'page' && v === 1)) params.set(k, String(v));
        const text = params.toString();
        return text ? `?${text}` : '';
      },
    });
  }

  app.get('/applications', { config: { access: access.signedIn } }, (request, reply) => listPage(request, reply, false));
  app.get('/queue', { config: { access: access.staff } }, (request, reply) => listPage(request, reply, true));

  app.get('/applications/new', { config: { access: access.createApplication } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const programmes = listProgrammes(app.db);
    return reply.page('pages/application-form.eta', formView(request, {}, [], { title: request.t('form.newTitle'), mode: 'new', programmeId: programmes.find((p) => p.year === new Date().getUTCFullYear())?.id ?? programmes[0]?.id, action: '/applications' }));
  });

  app.post('/applications', { config: { access: access.createApplication } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { form, problems, entered } = readApplicationForm(body, request.lang);
    const programmeText = bodyText(body, 'programmeId') ?? '';
    const programmeId = /^\d{1,9}$/.test(programmeText) ? Number(programmeText) : undefined;
    const render = (list: FieldProblem[]) =>
      reply.page('pages/application-form.eta', formView(request, entered, list, { title: request.t('form.newTitle'), mode: 'new', programmeId, action: '/applications', notice: { tone: 'error', text: request.t('form.errors', { count: list.length }) } }), 422);
    if (problems.length > 0) return render(problems);
    try {
      const created = createApplication(app.engine, actor, { programmeId, form });
      return reply.redirect(`/applications/${created.id}`, 303);
    } catch (error) {
      if (error instanceof ValidationError) return render(error.problems);
      if (error instanceof DomainError && error.status !== 404) {
        const notice = { tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, error) }) };
        return reply.page('pages/application-form.eta', formView(request, entered, [], { title: request.t('form.newTitle'), mode: 'new', programmeId, action: '/applications', notice }), error.status);
      }
      throw error;
    }
  });

  app.get('/applications/:id', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    return showApplication(request, reply, actor, idParam(request.params));
  });

  app.get('/applications/:id/edit', { config: { access: access.editApplication } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const id = idParam(request.params);
    const row = findApplication(app.engine, actor, id);
    const view = applicationView(request, actor, row);
    if (!view.canEdit) throw new NotAllowedError(`the application cannot be edited in the state ${row.state}`);
    return reply.page('pages/application-form.eta', formView(request, view.form, [], editExtras(request, row, view.remarksByField)));
  });

  function editExtras(request: FastifyRequest, row: ApplicationRow, remarksByField: Record<string, string[]>, version = row.version) {
    const programme = findProgramme(app.db, row.programmeId)!;
    return {
      title: request.t('form.editTitle', { id: row.id }),
      mode: 'edit',
      id: row.id,
      version,
      action: `/applications/${row.id}/edit`,
      remarksByField,
      programme,
      programmeId: row.programmeId,
    };
  }

  app.post('/applications/:id/edit', { config: { access: access.editApplication } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const id = idParam(request.params);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const row = findApplication(app.engine, actor, id);
    const context = applicationContext(app.engine, row);
    const remarksByField: Record<string, string[]> = {};
    for (const remark of context.remarks) (remarksByField[remark.field] ??= []).push(remark.text);
    const versionText = bodyText(body, 'expectedVersion') ?? '';
    const expectedVersion = /^\d{1,9}$/.test(versionText) ? Number(versionText) : 0;
    const { form, problems, entered } = readApplicationForm(body, request.lang);
    const submit = bodyText(body, 'intent') === 'submit';
    const renderForm = (status: number, list: FieldProblem[], notice: Notice, version = row.version) =>
      reply.page('pages/application-form.eta', formView(request, withEntered(context.form, entered), list, { ...editExtras(request, row, remarksByField, version), notice }), status);
    if (problems.length > 0) return renderForm(422, problems, { tone: 'error', text: request.t('form.errors', { count: problems.length }) });
    let version = expectedVersion;
    try {
      const changes = formChanges(context.form, form);
      if (Object.keys(changes).length > 0) version = sendApplicationEvent(app.engine, actor, id, 'update', changes, version).version;
      else if (!submit) return renderForm(200, [], { tone: 'info', text: request.t('app.noChanges') });
      if (submit) sendApplicationEvent(app.engine, actor, id, 'submit', {}, version);
    } catch (error) {
      if (error instanceof ConflictError) {
        const fresh = findApplication(app.engine, actor, id);
        const freshContext = applicationContext(app.engine, fresh);
        return reply.page('pages/application-form.eta', formView(request, freshContext.form, [], { ...editExtras(request, fresh, remarksByField), notice: { tone: 'warning', text: request.t('app.stale') } }), 409);
      }
      if (error instanceof ValidationError) {
        // The update may have been saved before submit was refused: show the saved version.
        const fresh = findApplication(app.engine, actor, id);
        return renderForm(422, error.problems, { tone: 'error', text: request.t(submit ? 'app.fixBelow' : 'form.errors', { count: error.problems.length }) }, fresh.version);
      }
      throw error;
    }
    return reply.redirect(`/applications/${id}`, 303);
  });

  app.post('/applications/:id/events', { config: { access: access.applicationEvents } }, async (request, reply) => {
    const actor = pageActor(request, reply);
    if (!actor) return reply;
    const id = idParam(request.params);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const type = bodyText(body, 'type') ?? '';
    const versionText = bodyText(body, 'expectedVersion') ?? '';
    const expectedVersion = /^\d{1,9}$/.test(versionText) ? Number(versionText) : 0;
    findApplication(app.engine, actor, id);
    const { payload, problems } = readEventPayload(type, body, request.lang);
    const refuse = (status: number, notice: Notice, eventProblems: Record<string, string> = {}) =>
      showApplication(request, reply, actor, id, status, { notice, eventProblems, failedEvent: type });
    if (problems.length > 0) {
      return refuse(422, { tone: 'error', text: request.t('app.refused', { message: problems.map((p) => describeProblem(request.t, request.lang, p)).join(' ') }) }, problemsByField(request.t, request.lang, problems));
    }
    try {
      const applied = sendApplicationEvent(app.engine, actor, id, type, payload, expectedVersion);
      const notice: Notice = { tone: 'success', text: request.t('app.done', { event: request.t(`event.${type}`), state: request.t(`state.${applied.state}`) }) };
      if (isHtmx(request)) return showApplication(request, reply, actor, id, 200, { notice });
      return reply.redirect(`/applications/${id}`, 303);
    } catch (error) {
      if (error instanceof ConflictError) return refuse(409, { tone: 'warning', text: request.t('app.stale') });
      // Only documents missing: the application page shows them beside their upload forms.
      if (error instanceof ValidationError && type === 'submit' && !error.problems.every((p) => p.field.startsWith('document.'))) {
        const row = findApplication(app.engine, actor, id);
        const context = applicationContext(app.engine, row);
        const remarksByField: Record<string, string[]> = {};
        for (const remark of context.remarks) (remarksByField[remark.field] ??= []).push(remark.text);
        if (isHtmx(request)) void reply.header('HX-Retarget', 'main').header('HX-Reswap', 'innerHTML');
        return reply.page('pages/application-form.eta', formView(request, context.form, error.problems, { ...editExtras(request, row, remarksByField), notice: { tone: 'error', text: request.t('app.fixBelow') } }), 422);
      }
      if (error instanceof ValidationError) {
        return refuse(422, { tone: 'error', text: request.t('app.refused', { message: error.problems.map((p) => describeProblem(request.t, request.lang, p)).join(' ') }) }, problemsByField(request.t, request.lang, error.problems));
      }
      if (error instanceof DomainError && error.status !== 404) return refuse(error.status, { tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, error) }) });
      throw error;
    }
  });
}
