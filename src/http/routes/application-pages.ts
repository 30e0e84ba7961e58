import { applicationLabel } from '../../workflows/application/registration.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { projectTypes } from '../../domain/application.ts';
import type { FieldProblem } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { ConflictError, NotAllowedError, ValidationError } from '../../engine/errors.ts';
import { applicationQueries, listFilterSchema, listMunicipalities, municipalityName } from '../../read/applications.ts';
import { createApplication, sendApplicationEvent } from '../../workflows/application/commands.ts';
import { loadApplication, type LoadedApplication } from '../../workflows/application/reads.ts';
import { findProgramme, listProgrammes } from '../../workflows/programme/reads.ts';
import { programmesOpenForApplications } from '../../workflows/application/open-programmes.ts';
import { applicationStates, reviewQueueStates } from '../../../machines/application.ts';
import { applicationPageModel, describeProblem, problemsByField } from '../application-view.ts';
import { access, allows, landingPage } from '../authorization.ts';
import { bodyText, fieldKinds, formChanges, readApplicationForm, readEventPayload, typedValues, withEntered } from '../forms.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, remarksByField, type Notice, type ShowApplication } from '../page-kit.ts';
import { isHtmx } from '../plugins/auth.ts';
import { doneText, refusalText } from '../refusals.ts';
import { documentPages } from './document-pages.ts';
import { conversationPages } from './conversation-api.ts';
import { idParam } from './params.ts';
import { reviewPages } from './review-pages.ts';
import { queueContextOf, queueSuffix } from '../queue-view.ts';


export async function applicationPages(app: FastifyInstance) {
  const queries = applicationQueries(app.db);

  const showApplication: ShowApplication = async (request, reply, id, status = 200, extras = {}) => {
    const actor = actorOf(request);
    return reply.page('pages/application.eta', applicationPageModel(app, request, actor, loadApplication(app.engine, actor, id), extras), status);
  };
  // Uploads, verdicts, downloads and previews answer with this page (issue 7).
  documentPages(app, showApplication);
  // Accepting every pending document at once (issue 16).
  reviewPages(app, showApplication);
  // Messages and answers to remarks answer with it too (issue 12).
  conversationPages(app, showApplication);

  function formView(request: FastifyRequest, values: Record<string, unknown>, problems: FieldProblem[], extras: Record<string, unknown>) {
    return {
      values,
      problems: problemsByField(request.t, request.lang, problems),
      problemList: problems.map((p) => ({ field: p.field, text: describeProblem(request.t, request.lang, p) })),
      projectTypes,
      programmes: listProgrammes(app.db),
      fieldKinds,
      ...extras,
    };
  }

  function editExtras(request: FastifyRequest, { row, context }: Pick<LoadedApplication, 'row' | 'context'>, version = row.version) {
    return {
      title: request.t('form.editTitle', { id: applicationLabel(row) }),
      mode: 'edit',
      id: row.id,
      version,
      action: `/applications/${row.id}/edit`,
      remarksByField: remarksByField(context.remarks),
      programme: findProgramme(app.db, row.programmeId)!,
      programmeId: row.programmeId,
    };
  }

  /** The edit form again, for a refused save or submit: what the person typed, with the problems beside the fields. */
  function editForm(request: FastifyRequest, reply: FastifyReply, loaded: LoadedApplication, values: Record<string, unknown>, problems: FieldProblem[], notice: Notice, status: number, version?: number) {
    return reply.page('pages/application-form.eta', formView(request, values, problems, { ...editExtras(request, loaded, version), notice }), status);
  }

  // `/` is the public portal's (routes/public-routes.ts): it sends a signed-in person to their landing page.

  async function listPage(request: FastifyRequest, reply: FastifyReply, queue: boolean) {
    const actor = actorOf(request);
    const filter = listFilterSchema.parse(request.query ?? {});
    const states = queue ? reviewQueueStates : null;
    // A keyset page (issue 18.3): the pager seeks after the last row shown or before the first.
    const { rows, nextAfter, prevBefore } = queries.page(actor, filter, states);
    const counts = queries.countsByState(actor, filter, states);
    const stateTabs = (states ?? applicationStates).map((state) => ({ state, count: counts[state] ?? 0 }));
    const everyMunicipality = allows(access.allMunicipalities, actor.role);
    const own = !everyMunicipality && actor.municipalityId !== null ? municipalityName(app.db, actor.municipalityId) : undefined;
    return reply.page('pages/applications.eta', {
      title: queue ? request.t('list.queueTitle') : own ? request.t('list.titleMunicipality', { municipality: own }) : request.t('list.title'),
      queue,
      basePath: queue ? '/queue' : '/applications',
      rows,
      filter,
      stateTabs,
      totalCount: Object.values(counts).reduce((a, b) => a + b, 0),
      municipalities: everyMunicipality ? listMunicipalities(app.db) : [],
      showMunicipality: everyMunicipality,
      programmes: listProgrammes(app.db),
      projectTypes,
      nextAfter,
      prevBefore,
      query: (changes: Record<string, string | number | undefined>) => {
        const merged = { ...filter, page: undefined, after: undefined, before: undefined, ...changes } as Record<string, unknown>;
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(merged)) if (v !== undefined && v !== null && v !== '' && !(k === 'page' && v === 1)) params.set(k, String(v));
        const text = params.toString();
        return text ? `?${text}` : '';
      },
    });
  }

  app.get('/applications', { config: { access: access.signedIn } }, (request, reply) => listPage(request, reply, false));

  // Only the programmes open for applications now are offered: never a finished one (issue 16).
  const newForm = (request: FastifyRequest, programmeId: number | undefined) => {
    const programmes = programmesOpenForApplications(app.engine, actorOf(request));
    return {
      title: request.t('form.newTitle'),
      mode: 'new',
      programmes,
      programmeId: programmes.some((p) => p.id === programmeId) ? programmeId : programmes[0]?.id,
      action: '/applications',
      ...(programmes.length === 0 ? { notice: { tone: 'info', text: request.t('form.noOpenProgramme') } satisfies Notice } : {}),
    };
  };

  app.get('/applications/new', { config: { access: access.createApplication } }, async (request, reply) => {
    return reply.page('pages/application-form.eta', formView(request, {}, [], newForm(request, undefined)));
  });

  app.post('/applications', { config: { access: access.createApplication } }, async (request, reply) => {
    const actor = actorOf(request);
    const body = formBody(request);
    const { form, problems, entered } = readApplicationForm(body, request.lang);
    const programmeText = bodyText(body, 'programmeId') ?? '';
    const programmeId = /^\d{1,9}$/.test(programmeText) ? Number(programmeText) : undefined;
    const render = (list: FieldProblem[], notice: Notice, status: number) => reply.page('pages/application-form.eta', formView(request, entered, list, { ...newForm(request, programmeId), notice }), status);
    if (problems.length > 0) return render(problems, { tone: 'error', text: request.t('form.errors', { count: problems.length }) }, 422);
    const created = await attemptWrite(app.engine, () => createApplication(app.engine, actor, { programmeId, form }));
    if (created.ok) return reply.redirect(`/applications/${created.value.id}`, 303);
    if (created.error instanceof ValidationError) return render(created.error.problems, { tone: 'error', text: request.t('form.errors', { count: created.error.problems.length }) }, 422);
    return render([], { tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, created.error) }) }, created.status);
  });

  app.get('/applications/:id', { config: { access: access.signedIn } }, async (request, reply) => showApplication(request, reply, idParam(request.params)));

  app.get('/applications/:id/edit', { config: { access: access.editApplication } }, async (request, reply) => {
    const actor = actorOf(request);
    const loaded = loadApplication(app.engine, actor, idParam(request.params));
    const model = applicationPageModel(app, request, actor, loaded);
    if (!model.canEdit) throw new NotAllowedError(`the application cannot be edited in the state ${loaded.row.state}`);
    return reply.page('pages/application-form.eta', formView(request, loaded.context.form, [], editExtras(request, loaded)));
  });

  app.post('/applications/:id/edit', { config: { access: access.editApplication } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const body = formBody(request);
    const loaded = loadApplication(app.engine, actor, id);
    const { form, problems, entered } = readApplicationForm(body, request.lang);
    const submit = bodyText(body, 'intent') === 'submit';
    const typed = withEntered(loaded.context.form, entered);
    if (problems.length > 0) return editForm(request, reply, loaded, typed, problems, { tone: 'error', text: request.t('form.errors', { count: problems.length }) }, 422);
    const changes = formChanges(loaded.context.form, form);
    if (Object.keys(changes).length === 0 && !submit) return editForm(request, reply, loaded, typed, [], { tone: 'info', text: request.t('app.noChanges') }, 200);
    let version = formVersion(body);
    // Two writes: the update stays saved when the submit after it is refused.
    const saved = await attempt(async () => {
      if (Object.keys(changes).length > 0) version = (await app.engine.write(() => sendApplicationEvent(app.engine, actor, id, 'update', changes, version))).version;
      if (submit) await app.engine.write(() => sendApplicationEvent(app.engine, actor, id, 'submit', {}, version));
    });
    if (saved.ok) return reply.redirect(`/applications/${id}`, 303);
    // The update may have been saved before submit was refused: the form goes on from the stored version.
    const fresh = loadApplication(app.engine, actor, id);
    if (saved.error instanceof ConflictError) return editForm(request, reply, fresh, fresh.context.form, [], { tone: 'warning', text: request.t('app.stale') }, 409);
    if (saved.error instanceof ValidationError) {
      return editForm(request, reply, fresh, typed, saved.error.problems, { tone: 'error', text: request.t(submit ? 'app.fixBelow' : 'form.errors', { count: saved.error.problems.length }) }, 422, fresh.row.version);
    }
    return editForm(request, reply, fresh, typed, [], { tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, saved.error) }) }, saved.status);
  });

  app.post('/applications/:id/events', { config: { access: access.applicationEvents } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const body = formBody(request);
    const type = bodyText(body, 'type') ?? '';
    loadApplication(app.engine, actor, id);
    const { payload, problems } = readEventPayload(type, body, request.lang);
    const refuse = (status: number, notice: Notice, eventProblems: Record<string, string> = {}) =>
      showApplication(request, reply, id, status, { notice, eventProblems, failedEvent: type, eventValues: typedValues(type, body) });
    const refusedWith = (list: FieldProblem[]) =>
      refuse(422, { tone: 'error', text: request.t('app.refused', { message: list.map((p) => describeProblem(request.t, request.lang, p)).join(' ') }) }, problemsByField(request.t, request.lang, list));
    if (problems.length > 0) return refusedWith(problems);
    const sent = await attemptWrite(app.engine, () => sendApplicationEvent(app.engine, actor, id, type, payload, formVersion(body)));
    if (sent.ok) {
      if (!isHtmx(request)) return reply.redirect(`/applications/${id}${queueSuffix(queueContextOf(request))}`, 303);
      return showApplication(request, reply, id, 200, { notice: { tone: 'success', text: request.t('app.done', { event: doneText(request.t, type), state: request.t(`state.${sent.value.state}`) }) } });
    }
    const { error, status } = sent;
    if (error instanceof ConflictError) return refuse(409, { tone: 'warning', text: request.t('app.stale') });
    // A submit refused for the form: the edit form with each problem beside its field (documents show on the page itself).
    if (error instanceof ValidationError && type === 'submit' && !error.problems.every((p) => p.field.startsWith('document.'))) {
      const fresh = loadApplication(app.engine, actor, id);
      return editForm(request, reply, fresh, fresh.context.form, error.problems, { tone: 'error', text: request.t('app.fixBelow') }, 422);
    }
    if (error instanceof ValidationError) return refusedWith(error.problems);
    return refuse(status, { tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, error) }) });
  });
}
