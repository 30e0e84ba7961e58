import { applicationLabels } from '../../workflows/application/registration.ts';
import { deadlinesFor } from '../../workflows/deadlines/clocks.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { queueQuerySchema, queueSorts, reviewQueueReads, type QueueSort, type QueueTab } from '../../read/review-queue.ts';
import { listMunicipalities } from '../../read/applications.ts';
import { sendApplicationEvent } from '../../workflows/application/commands.ts';
import { findProgramme, listProgrammes } from '../../workflows/programme/reads.ts';
import { reviewerReads } from '../../workflows/reviewer/reads.ts';
import { declareConflict, reviewerStreamVersion, withdrawConflict } from '../../workflows/reviewer/commands.ts';
import { describeProblem } from '../application-view.ts';
import { access, allows } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, type Notice } from '../page-kit.ts';
import { isHtmx } from '../plugins/auth.ts';
import { refusalText } from '../refusals.ts';
import { daysSince, defaultProgramme, defaultTab, displayedDirection, queueColumns, queueSuffix, tabsFor } from '../queue-view.ts';

/** The outcomes a redirect to the queue may announce: `?done=<key>&n=<count>`. */
const doneNotices = new Set(['assigned', 'end']);

/**
 * The review queue for a day's work (issue 16): tabs with their counts, every column sortable,
 * keyset pages, "next application" of the same tab, the coordinator's bulk assignment (one event
 * per application) and the reviewers' declarations of conflicts of interest.
 */
export async function queuePages(app: FastifyInstance) {
  const queue = reviewQueueReads(app.db);
  const reviewers = reviewerReads(app.db);

  function queuePage(request: FastifyRequest, reply: FastifyReply, notice: Notice | null, status = 200) {
    const actor = actorOf(request);
    const query = queueQuerySchema.parse(request.query ?? {});
    const programme = (query.programmeId ? findProgramme(app.db, query.programmeId) : undefined) ?? defaultProgramme(app.db, app.engine.now());
    const tabs = tabsFor(actor);
    const tab: QueueTab = query.tab && tabs.includes(query.tab) ? query.tab : defaultTab(actor);
    const page = programme ? queue.page(programme.id, tab, actor.id, query) : { rows: [], nextAfter: null, prevBefore: null };
    const labels = applicationLabels(app.db, page.rows.map((row) => row.id));
    const counts = programme ? queue.counts(programme.id, actor.id) : { mine: 0, unassigned: 0, applicant: 0, all: 0 };
    const now = app.engine.now();
    const base = { programmeId: programme?.id, tab, sort: query.sort, dir: query.dir };
    const link = (changes: Record<string, string | number | undefined>) => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries({ ...base, ...changes })) if (value !== undefined) params.set(key, String(value));
      return `/queue?${params.toString()}`;
    };
    const context = { tab, sort: query.sort, dir: query.dir };
    return reply.page(
      'pages/queue.eta',
      {
        title: request.t('queue.title'),
        programme,
        programmes: listProgrammes(app.db),
        tab,
        tabs: tabs.map((key) => ({ key, count: counts[key], href: link({ tab: key }), current: key === tab })),
        columns: queueColumns.map((key: QueueSort) => {
          const current = key === query.sort;
          const nextDir = current && query.dir === 'asc' ? 'desc' : 'asc';
          const shown = displayedDirection(key, query.dir);
          return { key, href: link({ sort: key, dir: nextDir }), ariaSort: current ? (shown === 'asc' ? 'ascending' : 'descending') : null, arrow: current ? (shown === 'asc' ? '↑' : '↓') : '' };
        }),
        rows: page.rows.map((row) => ({ ...row, label: labels.get(row.id) ?? String(row.id), href: `/applications/${row.id}${queueSuffix(context)}`, waitingDays: daysSince(row.waitingSince, now) })),
        nextHref: page.nextAfter ? link({ after: page.nextAfter }) : null,
        prevHref: page.prevBefore ? link({ before: page.prevBefore }) : null,
        firstHref: query.after || query.before ? link({}) : null,
        reviewers: allows(access.assign, actor.role) ? reviewers.reviewers() : [],
        nextFirst: page.rows[0] ? `/applications/${page.rows[0].id}${queueSuffix(context)}` : null,
        notice,
        sorts: Object.keys(queueSorts),
        // The time left on each application's clock (issue 12).
        deadlines: deadlinesFor(app.db, page.rows.map((row) => row.id), app.engine.now()),
      },
      status,
    );
  }

  app.get('/queue', { config: { access: access.staff } }, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const done = typeof query.done === 'string' && doneNotices.has(query.done) ? query.done : null;
    const count = typeof query.n === 'string' && /^\d{1,6}$/.test(query.n) ? Number(query.n) : 0;
    return queuePage(request, reply, done ? { tone: done === 'end' ? 'info' : 'success', text: request.t(`queue.done.${done}`, { count }) } : null);
  });

  /** The next application of the tab after `from`; at the end of the tab, back to the queue with a notice. */
  app.get('/queue/next', { config: { access: access.staff } }, async (request, reply) => {
    const actor = actorOf(request);
    const raw = (request.query ?? {}) as Record<string, unknown>;
    const query = queueQuerySchema.parse(raw);
    const from = typeof raw.from === 'string' && /^\d{1,12}$/.test(raw.from) ? Number(raw.from) : 0;
    const placed = queue.laneOf(from);
    const programmeId = placed?.programmeId ?? query.programmeId ?? defaultProgramme(app.db, app.engine.now())?.id;
    const tabs = tabsFor(actor);
    const tab: QueueTab = query.tab && tabs.includes(query.tab) ? query.tab : defaultTab(actor);
    const context = { tab, sort: query.sort, dir: query.dir };
    const next = programmeId === undefined ? undefined : queue.next(programmeId, tab, actor.id, query.sort, query.dir, from);
    if (next) return reply.redirect(`/applications/${next.id}${queueSuffix(context)}`, 303);
    const params = new URLSearchParams({ tab, sort: query.sort, dir: query.dir, done: 'end' });
    if (programmeId !== undefined) params.set('programmeId', String(programmeId));
    return reply.redirect(`/queue?${params.toString()}`, 303);
  });

  /**
   * The coordinator's bulk assignment: one `assign` event per application ticked, each at the
   * version the queue showed; refusals are listed by application, the others go through.
   */
  app.post('/queue/assign', { config: { access: access.assign } }, async (request, reply) => {
    const actor = actorOf(request);
    const body = formBody(request);
    const reviewerText = bodyText(body, 'reviewerId') ?? '';
    const reviewerId = /^\d{1,9}$/.test(reviewerText) ? Number(reviewerText) : 0;
    const ticked = ([] as unknown[]).concat(body.applications ?? []).filter((value): value is string => typeof value === 'string' && /^\d{1,12}:\d{1,9}$/.test(value));
    const t = request.t;
    if (reviewerId === 0 || ticked.length === 0) {
      return queuePage(request, reply, { tone: 'error', text: t(reviewerId === 0 ? 'queue.assign.noReviewer' : 'queue.assign.nothingTicked') }, 422);
    }
    const refused: string[] = [];
    let assigned = 0;
    for (const value of ticked.slice(0, 500)) {
      const [id, version] = value.split(':').map(Number) as [number, number];
      const sent = await attemptWrite(app.engine, () => sendApplicationEvent(app.engine, actor, id, 'assign', { reviewerId }, version));
      if (sent.ok) {
        assigned += 1;
        continue;
      }
      const why =
        sent.error instanceof ConflictError
          ? t('queue.assign.changed')
          : sent.error instanceof ValidationError
            ? sent.error.problems.map((problem) => describeProblem(t, request.lang, problem)).join(' ')
            : refusalText(t, request.lang, sent.error);
      refused.push(t('queue.assign.refusedOne', { id: applicationLabels(app.db, [id]).get(id) ?? String(id), why }));
    }
    if (refused.length === 0 && !isHtmx(request)) {
      const back = new URL(typeof request.headers.referer === 'string' ? request.headers.referer : '/queue', 'http://placeholder');
      const params = back.pathname === '/queue' ? back.searchParams : new URLSearchParams();
      params.set('done', 'assigned');
      params.set('n', String(assigned));
      return reply.redirect(`/queue?${params.toString()}`, 303);
    }
    const notice: Notice =
      refused.length === 0
        ? { tone: 'success', text: t('queue.done.assigned', { count: assigned }) }
        : { tone: assigned > 0 ? 'warning' : 'error', text: t('queue.assign.partly', { assigned, refused: refused.length }), items: refused };
    return queuePage(request, reply, notice, refused.length > 0 && assigned === 0 ? 422 : 200);
  });

  function conflictsPage(request: FastifyRequest, reply: FastifyReply, extras: Record<string, unknown> = {}, status = 200) {
    const actor = actorOf(request);
    const declared = reviewers.conflictsOf(actor.id);
    return reply.page(
      'pages/reviewer-conflicts.eta',
      {
        title: request.t('conflicts.title'),
        declared,
        municipalities: listMunicipalities(app.db).filter((m) => !declared.some((d) => d.municipalityId === m.id)),
        version: reviewerStreamVersion(app.engine, actor.id),
        timeZone: defaultProgramme(app.db, app.engine.now())?.timeZone ?? 'Europe/Moscow',
        values: { municipalityId: '', reason: '' },
        problems: {},
        notice: null,
        ...extras,
      },
      status,
    );
  }

  app.get('/account/conflicts', { config: { access: access.declareConflicts } }, async (request, reply) => conflictsPage(request, reply));

  app.post('/account/conflicts', { config: { access: access.declareConflicts } }, async (request, reply) => {
    const actor = actorOf(request);
    const body = formBody(request);
    const municipalityText = bodyText(body, 'municipalityId') ?? '';
    const reason = (bodyText(body, 'reason') ?? '').trim();
    const values = { municipalityId: municipalityText, reason };
    const problems: Record<string, string> = {};
    if (!/^\d{1,9}$/.test(municipalityText)) problems.municipalityId = request.t('problem.required');
    if (reason === '') problems.reason = request.t('problem.required');
    else if (reason.length > 500) problems.reason = request.t('problem.too-long-max', { max: 500 });
    const refuse = (notice: Notice, fieldProblems: Record<string, string>, status: number) => conflictsPage(request, reply, { values, problems: fieldProblems, notice }, status);
    if (Object.keys(problems).length > 0) return refuse({ tone: 'error', text: request.t('form.errors', { count: Object.keys(problems).length }) }, problems, 422);
    const sent = await attemptWrite(app.engine, () => declareConflict(app.engine, actor, { municipalityId: Number(municipalityText), reason }, formVersion(body)));
    if (sent.ok) return reply.redirect('/account/conflicts', 303);
    if (sent.error instanceof ConflictError) return refuse({ tone: 'warning', text: request.t('conflicts.stale') }, {}, 409);
    if (sent.error instanceof ValidationError) {
      const texts = Object.fromEntries(sent.error.problems.map((problem) => [problem.field, describeProblem(request.t, request.lang, problem)]));
      return refuse({ tone: 'error', text: request.t('form.errors', { count: sent.error.problems.length }) }, texts, 422);
    }
    return refuse({ tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, sent.error) }) }, {}, sent.status);
  });

  app.post('/account/conflicts/:municipalityId/withdraw', { config: { access: access.declareConflicts } }, async (request, reply) => {
    const actor = actorOf(request);
    const text = String((request.params as Record<string, unknown>).municipalityId);
    if (!/^\d{1,9}$/.test(text)) throw new NotFoundError('no such municipality');
    const sent = await attemptWrite(app.engine, () => withdrawConflict(app.engine, actor, Number(text), formVersion(formBody(request))));
    if (sent.ok) return reply.redirect('/account/conflicts', 303);
    if (sent.error instanceof ConflictError) return conflictsPage(request, reply, { notice: { tone: 'warning', text: request.t('conflicts.stale') } }, 409);
    return conflictsPage(request, reply, { notice: { tone: 'error', text: request.t('app.refused', { message: refusalText(request.t, request.lang, sent.error) }) } }, sent.status);
  });
}
