import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fieldKinds } from '../domain/application.ts';
import { formatRoubles } from '../domain/money.ts';
import { localeOf, numberFormat } from '../domain/intl.ts';
import type { Actor } from '../domain/roles.ts';
import type { EventOption, EventRow } from '../engine/engine.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import type { LoadedApplication } from '../workflows/application/reads.ts';
import { inReReview, sinceLastReturn } from '../workflows/application/rereview.ts';
import { pendingDocumentKinds } from '../workflows/documents/accept-all.ts';
import { reviewerReads } from '../workflows/reviewer/reads.ts';
import { access, allows } from './authorization.ts';
import { kindLabel } from './documents-view.ts';
import { defaultTab, queueContextOf, queueSuffix } from './queue-view.ts';

/** The keyboard shortcuts of the application page (views/public/shortcuts.js reads `data-shortcut`), documented on the page. */
export const applicationShortcuts = [
  { key: 'N', action: 'next' },
  { key: 'S', action: 'start' },
  { key: 'A', action: 'accept-documents' },
  { key: 'D', action: 'decide' },
  { key: 'Q', action: 'queue' },
] as const;

/** The decision buttons the shortcuts reach: `S` starts the review, `D` opens the first decision (issue 16). */
export const actionShortcuts: Record<string, { action: string; keys: string }> = {
  'start-review': { action: 'start', keys: 'Alt+Shift+S' },
  accept: { action: 'decide', keys: 'Alt+Shift+D' },
};

/** A field's value as one line of text, for the re-review's "then" and "now". */
function plainValue(t: Translate, lang: Lang, field: string, value: unknown): string {
  if (value === undefined || value === null || value === '') return t('rereview.empty');
  const kind = fieldKinds[field];
  if (kind === 'money' && typeof value === 'number') return `${formatRoubles(value, lang)} ₽`;
  if (kind === 'select') return t(`projectType.${String(value)}`);
  if (kind === 'int' && typeof value === 'number') return numberFormat(localeOf(lang)).format(value);
  return String(value);
}

/**
 * What the application page adds for the reviewer's working day (issue 16): who has the
 * application and the assignment forms, "next application" of the queue tab it was opened from,
 * the keyboard shortcuts, accepting every pending document at once, and — at re-review — the
 * remarks, the values then and now and the replaced documents, from the log.
 */
export function reviewPageModel(app: FastifyInstance, request: FastifyRequest, actor: Actor, loaded: LoadedApplication, assignment: EventOption[], documentOptions: EventOption[], events: EventRow[]) {
  const { row, context, stream } = loaded;
  const t = request.t;
  const reviewers = reviewerReads(app.db);
  const assigneeId = context.assigneeId ?? null;
  const assignee = assigneeId === null ? null : reviewers.nameOf(assigneeId);
  const offered = new Set(assignment.map((option) => option.type));
  const staff = allows(access.staff, actor.role);
  const context_ = queueContextOf(request) ?? (staff ? { tab: defaultTab(actor), sort: 'waiting' as const, dir: 'asc' as const } : null);
  const queueNav = staff && context_
    ? {
        next: `/queue/next?${new URLSearchParams({ tab: context_.tab, sort: context_.sort, dir: context_.dir, from: String(row.id) }).toString()}`,
        queue: `/queue?${new URLSearchParams({ programmeId: String(row.programmeId), tab: context_.tab, sort: context_.sort, dir: context_.dir }).toString()}`,
        tab: t(`queue.tab.${context_.tab}`),
      }
    : null;
  const pending = documentOptions.some((option) => option.type === 'review-document') ? pendingDocumentKinds(context.documents) : [];

  const only = (request.query as Record<string, unknown> | undefined)?.changed === '1';
  const since = inReReview(row.state) && allows(access.reviewDocument, actor.role) ? sinceLastReturn(app.engine.registry, stream, events, context) : null;
  const rereview = since
    ? {
        returnedAt: since.returnedAt,
        returnedBy: since.returnedBy,
        general: since.general,
        only,
        changedCount: since.fields.filter((f) => f.changed).length,
        allHref: `/applications/${row.id}${queueSuffix(queueContextOf(request))}#form-title`,
        changedHref: `/applications/${row.id}${queueSuffix(queueContextOf(request)) ? `${queueSuffix(queueContextOf(request))}&changed=1` : '?changed=1'}#form-title`,
        fields: Object.fromEntries(
          since.fields.map((f) => [
            f.field,
            { remarks: f.remarks, changed: f.changed, then: plainValue(t, request.lang, f.field, f.then), now: plainValue(t, request.lang, f.field, f.now), visible: !only || f.changed, noted: f.changed || f.remarks.length > 0 },
          ]),
        ),
        changedLabels: since.fields.filter((f) => f.changed).map((f) => t(`field.${f.field}`)),
        documents: since.documents.map((d) => ({ ...d, label: kindLabel(t, d.kind) })),
      }
    : null;

  return {
    assignment: {
      assignee,
      take: offered.has('take'),
      release: offered.has('release'),
      assign: offered.has('assign'),
      reviewers: offered.has('assign') ? reviewers.reviewers(row.municipalityId).filter((r) => r.id !== assigneeId) : [],
      shown: assignment.length > 0 || assigneeId !== null,
    },
    queueNav,
    shortcuts: applicationShortcuts,
    acceptAll: pending.length > 0 ? { count: pending.length, kinds: pending.map((kind) => kindLabel(t, kind)).join(', ') } : null,
    rereview,
  };
}
