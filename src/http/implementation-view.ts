import type { ApplicationContext } from '../../machines/application.ts';
import { fundSources, implementationOf, implementationSummary, mayHandleSource, sumAmounts, type ImplementationSummary } from '../domain/implementation.ts';
import { formatRoubles } from '../domain/money.ts';
import type { Role } from '../domain/roles.ts';
import { formatDay } from '../domain/time.ts';
import type { EventRow } from '../engine/engine.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import { localToday } from '../workflows/stage/overview.ts';
import { addMonths, renderFundsChart, renderMilestoneTimeline } from './charts/implementation.ts';
import { describeProblem } from './problem-text.ts';
import type { EventField } from './forms.ts';

export { showsImplementation } from '../../machines/application.ts';

/** The summary of a loaded application, as the pages and the stage lists read it. */
export const summaryOf = (state: string, context: Partial<ApplicationContext>): ImplementationSummary => implementationSummary(state, implementationOf(context));

/** What still blocks the next step, in words ("Население: по соглашению … ₽, поступило … ₽"). */
export const missingWords = (t: Translate, lang: Lang, summary: ImplementationSummary): string[] =>
  summary.missingProblems.map((problem) => describeProblem(t, lang, { field: problem.field ?? '', code: problem.code, ...(problem.params ? { params: problem.params } : {}) }));

export interface SelectOption {
  value: string;
  label: string;
}

/**
 * The options of an event's select for this application and this person: the sources (the
 * subsidy only for the coordinator), milestone kinds, verdicts, and the records a correction
 * names — the standing contributions, the open monitoring issues.
 */
export function fieldOptions(t: Translate, lang: Lang, field: EventField, summary: ImplementationSummary | null, role: Role): SelectOption[] {
  if (field.records === 'standing-contributions') {
    return (summary?.contributions ?? [])
      .filter((c) => !c.cancelled && mayHandleSource(role, c.source))
      .map((c) => ({ value: String(c.seq), label: `№ ${c.seq}: ${formatDay(c.receivedOn, lang)}, ${t(`source.${c.source}`)}, ${formatRoubles(c.amountKopecks, lang)} ₽${c.payer ? `, ${c.payer}` : ''}` }));
  }
  if (field.records === 'open-visits') {
    return (summary?.visits ?? [])
      .filter((v) => v.verdict === 'issues' && !v.resolution)
      .map((v) => ({ value: String(v.seq), label: `№ ${v.seq}: ${formatDay(v.visitedOn, lang)}, ${v.finding.length > 80 ? `${v.finding.slice(0, 79)}…` : v.finding}` }));
  }
  return (field.options ?? []).filter((value) => field.name !== 'source' || mayHandleSource(role, value)).map((value) => ({ value, label: t(`${field.labels ?? ''}${value}`) }));
}

/** What the agreement's form starts with: the subsidy the commission awarded and the application's own costs. */
export function agreementPrefill(moneyInput: (k: number | null | undefined) => string, context: Partial<ApplicationContext>): Record<string, string> {
  const costs = context.form?.costs ?? {};
  return {
    'amounts.subsidy': moneyInput(context.awardedKopecks ?? costs.subsidy ?? null),
    'amounts.localBudget': moneyInput(costs.localBudget ?? null),
    'amounts.residents': moneyInput(costs.residents ?? null),
    'amounts.business': moneyInput(costs.business ?? null),
  };
}

export interface CardInput {
  t: Translate;
  lang: Lang;
  timeZone: string;
  now: Date;
  id: number;
  state: string;
  context: Partial<ApplicationContext>;
  /** The stream's events, for who recorded each contribution. */
  events: readonly EventRow[];
  /** Evidence may be uploaded now (the machine allows `attach-evidence` to this person). */
  canAttach: boolean;
}

/**
 * The implementation card of the application page (issue 11, point 8): agreed vs received vs
 * spent per source (one SVG and its table), the contributions, the contract and its savings, the
 * milestones on a timeline, the photos, the agreement's scan and the acceptance act, the
 * monitoring visits, the spending report, and what the next step still needs, in words.
 */
export function implementationCard(input: CardInput) {
  const { t, lang, context, state } = input;
  const summary = summaryOf(state, context);
  const money = (k: number) => `${formatRoubles(k, lang)} ₽`;
  const day = (d: string | null | undefined) => formatDay(d, lang);
  const agreed = summary.agreement?.amounts ?? null;
  const spent = summary.spending?.actual ?? null;
  const sources = fundSources.map((key) => ({
    key,
    label: t(`source.${key}`),
    agreed: agreed ? agreed[key] : null,
    received: summary.received.bySource[key],
    spent: spent ? spent[key] : null,
    saving: summary.savings ? summary.savings.bySource[key] : null,
  }));
  const describeRow = (s: (typeof sources)[number]) =>
    `${s.label}: ${t('impl.agreed')} ${s.agreed === null ? '—' : money(s.agreed)}, ${t('impl.received')} ${money(s.received)}, ${t('impl.spent')} ${s.spent === null ? '—' : money(s.spent)}`;
  const fundsChart = renderFundsChart(sources, {
    title: t('impl.fundsTitle'),
    description: sources.map(describeRow).join('; '),
    agreed: t('impl.agreed'),
    received: t('impl.received'),
    spent: t('impl.spent'),
    money,
  });
  // Who recorded each contribution: the event's actor, by its place in the stream.
  const actorOf = new Map(input.events.map((e) => [e.seq, (JSON.parse(e.actor) as { name?: string }).name ?? '']));
  const contributions = summary.contributions.map((c) => ({
    ...c,
    receivedOnText: day(c.receivedOn),
    sourceLabel: t(`source.${c.source}`),
    amountText: money(c.amountKopecks),
    byName: actorOf.get(c.seq) || t(`role.${c.by}`),
  }));
  const contract = summary.contract;
  const planFrom = contract?.signedOn ?? null;
  const months = context.form?.durationMonths ?? null;
  const plan = planFrom && months ? { from: planFrom, to: addMonths(planFrom, months) } : null;
  const today = localToday(input.timeZone, input.now);
  const marks = summary.milestones.map((m) => ({ label: t(`milestone.${m.kind}`), on: m.on, dayText: day(m.on) }));
  const plannedText = plan ? `${day(plan.from)} — ${day(plan.to)}` : '';
  const timeline =
    plan || marks.length > 0
      ? renderMilestoneTimeline(plan, marks, today, {
          title: t('impl.timelineTitle'),
          description: [...(plan ? [`${t('impl.planned')}: ${plannedText}`] : []), ...marks.map((m) => `${m.label}: ${m.dayText}`)].join('; '),
          planned: t('impl.planned'),
          plannedText,
          today: t('impl.today'),
        })
      : null;
  const file = (e: { sha256: string }) => ({ href: `/applications/${input.id}/documents/${e.sha256}`, preview: `/applications/${input.id}/documents/${e.sha256}/preview` });
  return {
    summary,
    sources,
    totals: {
      agreed: summary.agreedTotal,
      received: summary.received.total,
      spent: spent ? sumAmounts(spent) : null,
    },
    fundsChart,
    contributions,
    contract,
    savings: summary.savings,
    savingsRuleText: summary.savings?.rule ? t(`savingsRule.${summary.savings.rule}`) : null,
    timeline,
    plan: plan ? { text: plannedText, months } : null,
    milestones: summary.milestones.map((m) => ({ ...m, label: t(`milestone.${m.kind}`), onText: day(m.on) })),
    progressPercent: summary.progressPercent,
    photos: summary.photos.map((p) => ({ ...p, ...file(p), alt: p.caption || t('impl.photoNo', { seq: p.seq }) })),
    agreementScan: summary.documents.agreementScan ? { ...summary.documents.agreementScan, ...file(summary.documents.agreementScan) } : null,
    acceptanceAct: summary.documents.acceptanceAct ? { ...summary.documents.acceptanceAct, ...file(summary.documents.acceptanceAct) } : null,
    visits: summary.visits.map((v) => ({
      ...v,
      visitedOnText: day(v.visitedOn),
      verdictText: t(`verdict.${v.verdict}`),
      tone: v.verdict === 'ok' ? 'success' : v.resolution ? 'info' : 'warning',
      statusText: v.verdict === 'ok' ? t('verdict.ok') : v.resolution ? t('impl.issueResolved') : t('impl.issueOpen'),
    })),
    spending: summary.spending,
    missing: missingWords(t, lang, summary),
    canAttach: input.canAttach,
    evidenceKinds: ['photo', 'acceptance-act', 'agreement-scan'].map((value) => ({ value, label: t(`evidence.${value}`) })),
  };
}

export type ImplementationCard = ReturnType<typeof implementationCard>;
