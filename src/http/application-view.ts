import type { FastifyInstance, FastifyRequest } from 'fastify';
import { applicationLabel } from '../workflows/application/registration.ts';
import { formFields, totalCostKopecks } from '../domain/application.ts';
import { formatRoubles } from '../domain/money.ts';
import type { FieldProblem } from '../domain/problems.ts';
import type { Actor } from '../domain/roles.ts';
import { formatDate } from '../domain/time.ts';
import type { EventRow } from '../engine/engine.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import { applicationQueries, municipalityName } from '../read/applications.ts';
import { applicationOptions, type LoadedApplication } from '../workflows/application/reads.ts';
import { findProgramme } from '../workflows/programme/reads.ts';
import { finalApplicationStates, inImplementation, remarksStandOpen } from '../../machines/application.ts';
import { currentStatechart } from '../audit/views.ts';
import { landingPage } from './authorization.ts';
import { days, renderStateDurations, stateSpans } from './charts/state-durations.ts';
import { documentHistoryDetails, documentsCard } from './documents-view.ts';
import { dangerousEvents, eventFields, fieldKinds } from './forms.ts';
import { remarksByField, type Notice } from './page-kit.ts';
import { actionShortcuts, reviewPageModel } from './review-view.ts';
import { describeProblem } from './problem-text.ts';
import { applicationJournalCard } from './journal-view.ts';
import { stateTone_ } from './view-helpers.ts';
import { conversationView } from './conversation-view.ts';
import { deadlinesFor } from '../workflows/deadlines/clocks.ts';
import { roublesInputValue } from '../domain/money.ts';
import { agreementPrefill, fieldOptions, implementationCard, showsImplementation } from './implementation-view.ts';

export { describeProblem, problemsByField } from './problem-text.ts';

/** One history row in words, for the table on every application page. */
export function historyRow(t: Translate, lang: Lang, event: EventRow) {
  const money = (k: number) => formatRoubles(k, lang);
  const actor = JSON.parse(event.actor) as Actor;
  const payload = JSON.parse(event.payload) as Record<string, unknown>;
  const details: string[] = [];
  const changed = (form: Record<string, unknown>) =>
    Object.entries(form).flatMap(([key, value]) => (value !== null && typeof value === 'object' ? Object.keys(value).map((k) => `${key}.${k}`) : [key]));
  if (event.type === 'create') details.push(t('app.changed', { fields: changed((payload.form ?? {}) as Record<string, unknown>).map((f) => t(`field.${f}`)).join(', ') }));
  if (event.type === 'update') details.push(t('app.changed', { fields: changed(payload).map((f) => t(`field.${f}`)).join(', ') }));
  if (Array.isArray(payload.remarks)) {
    for (const remark of payload.remarks as { field: string; text: string }[]) details.push(`${t(`field.${remark.field}`)}: ${remark.text}`);
  }
  for (const key of ['reason', 'comment', 'note', 'finding', 'agreementNo', 'contractor'] as const) {
    if (typeof payload[key] === 'string') details.push(`${t(`field.${key}`)}: ${payload[key]}`);
  }
  // The decision's `not-award` records its reason as a code (older events carry the words as a comment).
  if (typeof payload.why === 'string') details.push(t(`commission.notAward.${payload.why}`, { rank: Number(payload.rank ?? 0), count: Number(payload.count ?? 0) }));
  if (typeof payload.significance === 'number') details.push(t('app.score', { score: payload.significance }));
  if (typeof payload.amountKopecks === 'number') details.push(`${t('field.amountKopecks')}: ${money(payload.amountKopecks)} ₽`);
  if (typeof payload.priceKopecks === 'number') details.push(`${t('field.priceKopecks')}: ${money(payload.priceKopecks)} ₽`);
  if (typeof payload.percent === 'number') details.push(t('app.progress', { percent: payload.percent }));
  details.push(...documentHistoryDetails(t, lang, event.type, payload));
  // The number a first submission gave (issue 13), recorded with the event's facts.
  const registration = event.type === 'submit' ? (JSON.parse(event.facts) as { registration?: { no: string } }).registration : undefined;
  if (registration) details.push(`${t('app.registrationNo')}: ${registration.no}`);
  return { seq: event.seq, at: event.at, actor, type: event.type, from: event.fromState, to: event.toState, details, hash: event.hash };
}

/**
 * Everything the application page shows, built from one load of the application (its row, its
 * stream, its context): the form, what the actor may do (the machine's `whyNot`), the documents,
 * the history, the time in each state and the statechart.
 */
export function applicationPageModel(app: FastifyInstance, request: FastifyRequest, actor: Actor, loaded: LoadedApplication, extras: Record<string, unknown> = {}) {
  const { row, stream, context } = loaded;
  const t = request.t;
  const programme = findProgramme(app.db, row.programmeId)!;
  const options = applicationOptions(app.engine, actor, stream);
  const actions = options.actions.map((option) => option.type);
  const events = applicationQueries(app.db).history(row.streamId);
  const spans = stateSpans(
    events.map((e) => ({ at: e.at, to: e.toState })),
    app.engine.now(),
    (state) => finalApplicationStates.has(state),
    (state) => ({ label: t(`state.${state}`), tone: stateTone_(state) }),
  );
  const durations = renderStateDurations(spans, {
    title: t('app.timeInStates'),
    description: spans.map((span) => `${span.label}: ${t('app.days', { count: Math.round(days(span.from, span.to)) })}`).join('; '),
    daysLabel: (n) => t('app.days', { count: n }),
    dateOf: (iso) => formatDate(iso, programme.timeZone, request.lang),
  });
  const remarksOpen = remarksStandOpen(row.state);
  // After the award (issue 11): the implementation card, from the same context the machine keeps.
  const implementation = showsImplementation(row.state, context)
    ? implementationCard({ t, lang: request.lang, timeZone: programme.timeZone, now: app.engine.now(), id: row.id, state: row.state, context, events, canAttach: options.all.some((option) => option.type === 'attach-evidence' && option.open) })
    : null;
  return {
    title: `${t('app.number', { id: applicationLabel(row) })}: ${row.title || t('app.untitled')}`,
    label: applicationLabel(row),
    // Back to the list the application was found in: the queue for a reviewer, the applications list for the rest (the coordinator lands on the dashboard).
    backLink: landingPage[actor.role] === '/queue' ? { href: '/queue', label: 'nav.queue' } : { href: '/applications', label: 'nav.applications' },
    durations,
    statechart: currentStatechart(t, app.engine, stream),
    row,
    context,
    form: context.form,
    total: totalCostKopecks(context.form.costs),
    programme,
    municipality: municipalityName(app.db, row.municipalityId),
    history: events.map((event) => historyRow(t, request.lang, event)),
    documents: documentsCard(app.engine, actor, loaded, options.documents, t, request.lang, programme.timeZone),
    // The programme journal's entries about this application (issue 14).
    journal: applicationJournalCard(app.engine, actor, row, options.documents, t, request.lang),
    canEdit: actions.includes('update'),
    canReturn: actions.includes('return-for-revision'),
    // Evidence is uploaded by its own form in the implementation card, not sent as an event.
    actions: actions
      .filter((type) => type !== 'update' && type !== 'attach-evidence')
      .map((type) => ({
        type,
        fields: (eventFields[type] ?? []).map((field) => ({ ...field, choices: field.kind === 'select' ? fieldOptions(t, request.lang, field, implementation?.summary ?? null, actor.role) : [] })),
        prefill: type === 'sign-agreement' ? agreementPrefill((k) => roublesInputValue(k, request.lang), context) : ({} as Record<string, string>),
        danger: dangerousEvents.has(type),
        shortcut: actionShortcuts[type] ?? null,
      })),
    implementation,
    // Awards are not buttons here: the commission decides every accepted application at once, by the ranking.
    decisionLink: options.all.some((option) => option.type === 'award') ? `/programmes/${row.programmeId}/commission` : null,
    remarksOpen,
    remarksShown: remarksOpen && context.remarks.length > 0,
    inImplementation: inImplementation(row.state),
    remarksByField: remarksByField(context.remarks),
    formFields,
    fieldKinds,
    // The conversation, the answers beside the remarks, and the time left (issue 12).
    conversation: conversationView(app, t, actor, loaded),
    deadline: deadlinesFor(app.db, [row.id], app.engine.now()).get(row.id) ?? null,
    messageProblems: {} as Record<string, string>,
    notice: null as Notice | null,
    eventProblems: {} as Record<string, string>,
    failedEvent: null as string | null,
    /** What the person typed into the refused event's form, shown back beside its errors. */
    eventValues: {} as Record<string, string>,
    evidenceProblems: {} as Record<string, string>,
    // The reviewer's working day (issue 16): assignment, next, shortcuts, accepting all documents, re-review.
    ...reviewPageModel(app, request, actor, loaded, options.assignment, options.documents, events),
    ...extras,
  };
}
