import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fileTypeOfMedia, fileTypes, MAX_DOCUMENT_BYTES } from '../../domain/documents.ts';
import { isJournalKind, journalKindStages, journalKinds, type JournalKind } from '../../domain/journal.ts';
import type { FieldProblem } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { listMunicipalities } from '../../read/applications.ts';
import { coverageKinds, journalCoverage, type JournalCoverage } from '../../workflows/journal/coverage.ts';
import { localeOf, numberFormat } from '../../domain/intl.ts';
import {
  attachJournalDocument,
  findJournalFile,
  journalRecordOptions,
  linkJournalApplication,
  recordJournalEntry,
  takeJournalDocument,
  type JournalUpload,
} from '../../workflows/journal/commands.ts';
import { journalReads, listJournal, loadJournalEntry, type JournalFilter } from '../../workflows/journal/reads.ts';
import { findProgramme, type ProgrammeRow } from '../../workflows/programme/reads.ts';
import { loadStreamEvents } from '../../engine/replay.ts';
import { loadApplication } from '../../workflows/application/reads.ts';
import { applicationLabels } from '../../workflows/application/registration.ts';
import { applicationPageModel } from '../application-view.ts';
import { access, allows } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import { readJournalForm } from '../journal-form.ts';
import { entryDocuments, entryFields, journalFormModel, journalHistoryRow, journalListRow, journalProblemsByField, journalProblemText } from '../journal-view.ts';
import { renderCoverageChart } from '../charts/coverage.ts';
import { coverageCsv } from '../exports/coverage.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, type Notice, type ShowApplication } from '../page-kit.ts';
import { isHtmx, verifyMultipartCsrf } from '../plugins/auth.ts';
import { statusOf } from '../plugins/errors.ts';
import { blockerText, refusalText, stageName } from '../refusals.ts';
import { idParam } from './params.ts';
import { MalformedRequestError } from './document-files.ts';
import { contentDisposition } from '../content-disposition.ts';
import { storageFaultOf } from '../../db/storage-faults.ts';
import { stageDefinitions } from '../../../machines/stages.ts';
import { journalStanding } from '../../../machines/journal.ts';

/** A form as sent: fields (repeated keys as arrays) and the files, already in the store's temporary folder. */
export interface ReceivedForm {
  body: Record<string, unknown>;
  files: JournalUpload[];
}

/**
 * Reads a journal form: urlencoded, or multipart with its documents. A multipart form's `_csrf`
 * comes first and is checked before a byte of any file is read (`null`: the 403 is on its way).
 * Each file streams to the store's temporary folder, counted and hashed; an empty file input is
 * no file.
 */
export async function receiveJournalForm(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<ReceivedForm | null> {
  if (!request.isMultipart()) return { body: formBody(request), files: [] };
  const body: Record<string, unknown> = {};
  const files: JournalUpload[] = [];
  let checked = false;
  try {
    for await (const part of request.parts({ limits: { files: 6, fields: 80, fieldSize: 12_000, parts: 90, fileSize: MAX_DOCUMENT_BYTES + 1 } })) {
      if (part.type === 'field') {
        const value = typeof part.value === 'string' ? part.value : String(part.value);
        const before = body[part.fieldname];
        body[part.fieldname] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
        continue;
      }
      if (!checked) {
        if (!verifyMultipartCsrf(request, reply, typeof body._csrf === 'string' ? body._csrf : undefined)) {
          part.file.resume();
          files.forEach((file) => app.documentStore.discard(file.received));
          return null;
        }
        checked = true;
      }
      const role = part.fieldname.replace(/^document\./, '');
      const received = await app.documentStore.receive(part.file, MAX_DOCUMENT_BYTES);
      if (!part.filename && received.size === 0) {
        app.documentStore.discard(received);
        continue;
      }
      files.push({ role, fileName: part.filename, received });
    }
  } catch (error) {
    files.forEach((file) => app.documentStore.discard(file.received));
    // A form the parser cannot read (cut short, no boundary, broken headers) is the client's: a 400 that says so, never a 500.
    const status = (error as { statusCode?: unknown }).statusCode;
    if (error instanceof Error && !(error instanceof DomainError) && !storageFaultOf(error) && (status === undefined || status === 400)) {
      request.log.info({ user: request.actor?.login ?? null, ip: request.ip, err: error.message }, 'malformed journal form');
      throw new MalformedRequestError(request.t('upload.malformed'));
    }
    throw error;
  }
  if (!checked && !verifyMultipartCsrf(request, reply, typeof body._csrf === 'string' ? body._csrf : undefined)) return null;
  return { body, files };
}

/** The list's filters from the query, each checked; anything else is ignored. */
export function journalFilterOf(query: unknown): JournalFilter {
  const q = (query ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof q[key] === 'string' && q[key] !== '' ? (q[key] as string) : undefined);
  const date = (key: string) => (text(key) && /^\d{4}-\d{2}-\d{2}$/.test(text(key)!) ? text(key) : undefined);
  const kind = text('kind');
  const stage = text('stage');
  const municipality = text('municipalityId');
  return {
    ...(isJournalKind(kind) ? { kind } : {}),
    ...(stage && stageDefinitions.some((d) => d.key === stage) ? { stage } : {}),
    ...(municipality && /^\d{1,9}$/.test(municipality) ? { municipalityId: Number(municipality) } : {}),
    ...(date('from') ? { from: date('from') } : {}),
    ...(date('to') ? { to: date('to') } : {}),
  };
}

/** The coverage in the page's words: the table's rows, the chart's bars, the totals. */
function coverageModel(request: FastifyRequest, coverage: JournalCoverage) {
  const t = request.t;
  const n = coverage.totals.municipalities;
  const number = (value: number) => numberFormat(localeOf(request.lang)).format(value);
  const bars = [
    { key: 'training', covered: coverage.totals.trained, people: coverage.totals.participants.training },
    { key: 'preliminary-meeting', covered: coverage.rows.filter((r) => r.entries['preliminary-meeting'] > 0).length, people: coverage.totals.participants['preliminary-meeting'] },
    { key: 'final-meeting', covered: coverage.totals.withFinalMeeting, people: coverage.totals.participants['final-meeting'] },
    { key: 'consultation', covered: coverage.totals.consulted, people: null },
    { key: 'opening-ceremony', covered: coverage.rows.filter((r) => r.entries['opening-ceremony'] > 0).length, people: coverage.totals.participants['opening-ceremony'] },
  ].map((bar) => ({
    key: bar.key,
    label: t(`journal.kind.${bar.key}`),
    covered: bar.covered,
    of: n,
    text:
      bar.people === null
        ? t('journal.coverage.barConsulted', { covered: bar.covered, of: n, entries: coverage.totals.entries.consultation })
        : t('journal.coverage.bar', { covered: bar.covered, of: n, people: number(bar.people) }),
  }));
  const chart = renderCoverageChart(bars, {
    title: t('journal.coverage.chartTitle'),
    description: bars.map((bar) => `${bar.label}: ${bar.text}`).join('; '),
  });
  return { coverage, chart, kinds: journalKinds, columns: coverageKinds };
}

/** The journal's pages (issue 14): the list with its filters, the forms per kind, each entry, the coverage. */
export async function journalPages(app: FastifyInstance) {
  // The application page answers the taking of a journal's document, as its own actions do.
  const showApplication: ShowApplication = async (request, reply, id, status = 200, extras = {}) => {
    const actor = actorOf(request);
    return reply.page('pages/application.eta', applicationPageModel(app, request, actor, loadApplication(app.engine, actor, id), extras), status);
  };
  const programmeOf = (request: FastifyRequest): ProgrammeRow => {
    const programme = findProgramme(app.db, idParam(request.params));
    if (!programme) throw new NotFoundError();
    return programme;
  };
  const municipalityNames = () => new Map(listMunicipalities(app.db).map((m) => [m.id, m.name]));

  function listView(request: FastifyRequest, actor: Actor, programme: ProgrammeRow, extras: Record<string, unknown> = {}) {
    const t = request.t;
    const filter = journalFilterOf(request.query);
    const names = municipalityNames();
    const options = allows(access.recordJournal, actor.role) ? journalRecordOptions(app.engine, actor, programme.id) : [];
    return {
      title: t('journal.title', { title: programme.title }),
      programme,
      filter,
      rows: listJournal(app.db, actor, programme.id, filter).map((row) => journalListRow(t, row, names)),
      kinds: journalKinds.map((kind) => ({ kind, label: t(`journal.kind.${kind}`) })),
      stages: stageDefinitions.filter((d) => journalKinds.some((kind) => journalKindStages[kind].includes(d.key))).map((d) => ({ key: d.key, label: `${d.no}. ${stageName(t, d.key)}` })),
      municipalities: listMunicipalities(app.db),
      recordOptions: options.map((option) => ({
        kind: option.kind,
        label: t(`journal.kind.${option.kind}`),
        open: option.open,
        why: option.problems.filter((p) => p.field === undefined).map((p) => blockerText(t, p)).join(' '),
      })),
      notice: null as Notice | null,
      ...extras,
    };
  }

  app.get('/programmes/:id/journal', { config: { access: access.signedIn } }, async (request, reply) => {
    return reply.page('pages/journal.eta', listView(request, actorOf(request), programmeOf(request)));
  });

  /** The form of a kind: new, a correction of an entry (`supersedes`), or again with the problems beside the fields. */
  function formPage(request: FastifyRequest, reply: FastifyReply, programme: ProgrammeRow, kind: JournalKind, values: Record<string, unknown>, problems: readonly FieldProblem[], status: number, extras: Record<string, unknown> = {}) {
    const t = request.t;
    const byField = journalProblemsByField(t, request.lang, problems);
    return reply.page(
      'pages/journal-form.eta',
      {
        title: t('journal.newTitle', { kind: t(`journal.kind.${kind}`) }),
        programme,
        form: journalFormModel(t, request.lang, kind, listMunicipalities(app.db)),
        values,
        problems: byField,
        problemList: problems.map((p) => ({ field: p.field, text: journalProblemText(t, request.lang, p) })),
        supersedes: null as number | null,
        notice: problems.length > 0 ? ({ tone: 'error', text: t('journal.fixBelow', { count: problems.length }) } satisfies Notice) : null,
        ...extras,
      },
      status,
    );
  }

  app.get('/programmes/:id/journal/new', { config: { access: access.recordJournal } }, async (request, reply) => {
    const actor = actorOf(request);
    const programme = programmeOf(request);
    const query = (request.query ?? {}) as Record<string, unknown>;
    const kind = query.kind;
    if (!isJournalKind(kind)) throw new NotFoundError();
    const supersedes = typeof query.supersedes === 'string' && /^\d{1,9}$/.test(query.supersedes) ? Number(query.supersedes) : null;
    // A correction starts from the entry it corrects; a consultation about an application starts from that application.
    let values: Record<string, unknown> = {};
    if (supersedes !== null) {
      const old = loadJournalEntry(app.engine, actor, supersedes, programme.id);
      if (old.context.kind !== kind) throw new NotFoundError();
      values = { ...old.context.fields };
    }
    for (const key of ['municipalityId', 'applicationId'] as const) if (typeof query[key] === 'string' && /^\d{1,9}$/.test(query[key] as string)) values[key] = query[key];
    if (kind === 'consultation' && values.consultant === undefined) values.consultant = actor.name;
    // A kind whose stage is not active is said at once, not only when the form is sent.
    const option = journalRecordOptions(app.engine, actor, programme.id).find((o) => o.kind === kind)!;
    const closed = option.open ? null : ({ tone: 'warning', text: option.problems.filter((p) => p.field === undefined).map((p) => blockerText(request.t, p)).join(' ') } satisfies Notice);
    return formPage(request, reply, programme, kind, values, [], 200, { supersedes, ...(closed ? { notice: closed } : {}) });
  });

  app.post('/programmes/:id/journal', { config: { access: access.recordJournal, csrf: 'multipart-field' } }, async (request, reply) => {
    const actor = actorOf(request);
    const programme = programmeOf(request);
    const form = await receiveJournalForm(app, request, reply);
    if (form === null || reply.sent) return reply;
    const kind = bodyText(form.body, 'kind');
    if (!isJournalKind(kind)) {
      form.files.forEach((file) => app.documentStore.discard(file.received));
      throw new ValidationError('unknown kind of entry', [{ field: 'kind', code: 'journal.problem.unknown-kind' }]);
    }
    const supersedesText = bodyText(form.body, 'supersedes') ?? '';
    const supersedes = /^\d{1,9}$/.test(supersedesText) ? Number(supersedesText) : null;
    const { fields, problems, entered } = readJournalForm(kind, form.body, request.lang);
    const again = (list: readonly FieldProblem[], status: number, notice?: Notice) =>
      formPage(request, reply, programme, kind, { ...entered }, list, status, { supersedes, ...(notice ? { notice } : {}) });
    if (problems.length > 0) {
      form.files.forEach((file) => app.documentStore.discard(file.received));
      return again(problems, 422);
    }
    const recorded = await attemptWrite(app.engine, () => recordJournalEntry(app.engine, app.documentStore, actor, programme.id, { kind, fields, supersedes }, form.files));
    if (!recorded.ok) {
      if (recorded.error instanceof ValidationError) return again(recorded.error.problems, 422);
      return again([], recorded.status, { tone: 'error', text: request.t('journal.refused', { message: refusalText(request.t, request.lang, recorded.error) }) });
    }
    const href = `/programmes/${programme.id}/journal/${recorded.value.id}`;
    if (isHtmx(request)) return showEntry(request, reply, recorded.value.id, 200, { notice: { tone: 'success', text: request.t('journal.recorded', { id: recorded.value.id }) } });
    return reply.redirect(`${href}?done=recorded`, 303);
  });

  function entryView(request: FastifyRequest, actor: Actor, programme: ProgrammeRow, entryId: number, extras: Record<string, unknown> = {}) {
    const t = request.t;
    const entry = loadJournalEntry(app.engine, actor, entryId, programme.id);
    const options = app.engine.eventOptions(entry.stream, actor).filter((option) => option.open);
    const names = municipalityNames();
    // The fields and the history name an application by its registration number (issue 13).
    const appLabel = (id: number) => applicationLabels(app.db, [id]).get(id) ?? String(id);
    const mayRecord = journalRecordOptions(app.engine, actor, programme.id).find((option) => option.kind === entry.context.kind);
    return {
      title: t('journal.entryTitle', { id: entryId, kind: t(`journal.kind.${entry.context.kind}`) }),
      programme,
      entry: entry.row,
      context: entry.context,
      kindLabel: t(`journal.kind.${entry.context.kind}`),
      fields: entryFields(t, request.lang, entry.context.kind, entry.context.fields, names, appLabel),
      documents: entryDocuments(t, request.lang, programme.id, entryId, entry.context),
      documentRoles: journalFormModel(t, request.lang, entry.context.kind, []).documents,
      mayAttach: options.some((option) => option.type === 'attach-document'),
      mayLink: options.some((option) => option.type === 'link-application'),
      linkChoices: entry.context.kind === 'final-meeting' && entry.row.municipalityId !== null ? journalReads(app.db).applicationsOfMunicipality(programme.id, entry.row.municipalityId) : [],
      mayCorrect: journalStanding(entry.row.state) && (mayRecord?.open ?? false),
      history: loadStreamEvents(app.db, entry.stream.id).map((event) => journalHistoryRow(t, request.lang, event, appLabel)),
      notice: (request.query as Record<string, unknown> | undefined)?.done === 'recorded' ? ({ tone: 'success', text: t('journal.recorded', { id: entryId }) } satisfies Notice) : null,
      ...extras,
    };
  }

  async function showEntry(request: FastifyRequest, reply: FastifyReply, entryId: number, status = 200, extras: Record<string, unknown> = {}) {
    return reply.page('pages/journal-entry.eta', entryView(request, actorOf(request), programmeOf(request), entryId, extras), status);
  }

  /** A refused action on an entry: the entry again, with why. */
  function entryRefusal(request: FastifyRequest, reply: FastifyReply, entryId: number, error: DomainError) {
    const t = request.t;
    if (error instanceof ConflictError) return showEntry(request, reply, entryId, 409, { notice: { tone: 'warning', text: t('journal.stale') } });
    const message = error instanceof ValidationError ? error.problems.map((p) => journalProblemText(t, request.lang, p)).join(' ') : refusalText(t, request.lang, error);
    return showEntry(request, reply, entryId, error instanceof ValidationError ? 422 : statusOf(error), { notice: { tone: 'error', text: t('journal.refused', { message }) } });
  }

  app.get('/programmes/:id/journal/:entryId', { config: { access: access.signedIn } }, async (request, reply) => showEntry(request, reply, idParam(request.params, 'entryId')));

  app.post('/programmes/:id/journal/:entryId/documents', { config: { access: access.journalEvents, csrf: 'multipart-field' } }, async (request, reply) => {
    const actor = actorOf(request);
    programmeOf(request);
    const entryId = idParam(request.params, 'entryId');
    loadJournalEntry(app.engine, actor, entryId, idParam(request.params));
    const form = await receiveJournalForm(app, request, reply);
    if (form === null || reply.sent) return reply;
    const [file, ...extra] = form.files;
    extra.forEach((f) => app.documentStore.discard(f.received));
    if (!file) return entryRefusal(request, reply, entryId, new ValidationError('no file was sent', [{ field: 'file', code: 'document-no-file' }]));
    const role = bodyText(form.body, 'role') ?? file.role;
    const versionText = bodyText(form.body, 'expectedVersion');
    const attached = await attemptWrite(app.engine, () => attachJournalDocument(app.engine, app.documentStore, actor, entryId, { ...file, role }, versionText ? formVersion(form.body) : undefined));
    if (!attached.ok) return entryRefusal(request, reply, entryId, attached.error);
    if (isHtmx(request)) return showEntry(request, reply, entryId, 200, { notice: { tone: 'success', text: request.t('journal.attached', { name: file.fileName }) } });
    return reply.redirect(`/programmes/${idParam(request.params)}/journal/${entryId}`, 303);
  });

  app.post('/programmes/:id/journal/:entryId/link', { config: { access: access.journalEvents } }, async (request, reply) => {
    const actor = actorOf(request);
    programmeOf(request);
    const entryId = idParam(request.params, 'entryId');
    const body = formBody(request);
    const text = bodyText(body, 'applicationId') ?? '';
    const applicationId = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : text;
    const linked = await attemptWrite(app.engine, () => linkJournalApplication(app.engine, actor, entryId, applicationId, formVersion(body)));
    if (!linked.ok) return entryRefusal(request, reply, entryId, linked.error);
    if (isHtmx(request)) return showEntry(request, reply, entryId, 200, { notice: { tone: 'success', text: request.t('journal.linked', { id: typeof applicationId === 'number' ? (applicationLabels(app.db, [applicationId]).get(applicationId) ?? String(applicationId)) : applicationId }) } });
    return reply.redirect(`/programmes/${idParam(request.params)}/journal/${entryId}`, 303);
  });

  app.get('/programmes/:id/journal/:entryId/documents/:sha256', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const programme = programmeOf(request);
    const entryId = idParam(request.params, 'entryId');
    const { entry, document } = findJournalFile(app.engine, actor, entryId, String((request.params as Record<string, unknown>).sha256));
    if (entry.row.programmeId !== programme.id || !app.documentStore.has(document.sha256)) throw new NotFoundError();
    const type = fileTypeOfMedia(document.mediaType);
    return reply
      .type(type ? fileTypes[type].mediaType : 'application/octet-stream')
      .header('Content-Disposition', contentDisposition('attachment', document.name))
      .header('Content-Length', String(app.documentStore.size(document.sha256)))
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'private, no-store')
      .send(createReadStream(app.documentStore.pathOf(document.sha256)));
  });

  app.get('/programmes/:id/coverage', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    return reply.page('pages/journal-coverage.eta', { title: request.t('journal.coverage.title', { title: programme.title }), programme, ...coverageModel(request, journalCoverage(app.db, programme.id)) });
  });

  app.get('/programmes/:id/coverage.csv', { config: { access: access.staff } }, async (request, reply) => {
    const programme = programmeOf(request);
    return reply
      .header('Content-Disposition', contentDisposition('attachment', `coverage-${programme.id}.csv`))
      .header('Cache-Control', 'no-store')
      .type('text/csv; charset=utf-8')
      .send(coverageCsv(request.t, journalCoverage(app.db, programme.id)));
  });

  /** The applicant takes the final meeting's minutes (or attendance sheet) as the application's own document. */
  app.post('/applications/:id/documents/from-journal', { config: { access: access.attachDocument } }, async (request, reply) => {
    const actor = actorOf(request);
    const id = idParam(request.params);
    const body = formBody(request);
    const entryText = bodyText(body, 'entryId') ?? '';
    const sha256 = bodyText(body, 'sha256') ?? '';
    loadApplication(app.engine, actor, id);
    if (!/^\d{1,9}$/.test(entryText)) throw new NotFoundError();
    const taken = await attempt(() => takeJournalDocument(app.engine, app.documentStore, actor, id, Number(entryText), sha256, formVersion(body)));
    const t = request.t;
    if (!taken.ok) {
      if (taken.error instanceof ConflictError) return showApplication(request, reply, id, 409, { notice: { tone: 'warning', text: t('app.stale') } satisfies Notice });
      const message = taken.error instanceof ValidationError ? taken.error.problems.map((p) => journalProblemText(t, request.lang, p)).join(' ') : refusalText(t, request.lang, taken.error);
      return showApplication(request, reply, id, taken.error instanceof ValidationError ? 422 : taken.status, { notice: { tone: 'error', text: t('journal.refused', { message }) } satisfies Notice });
    }
    if (isHtmx(request)) return showApplication(request, reply, id, 200, { notice: { tone: 'success', text: t('journal.taken') } satisfies Notice });
    return reply.redirect(`/applications/${id}#documents`, 303);
  });
}
