import { localeOf, numberFormat } from '../domain/intl.ts';
import { formatRoubles } from '../domain/money.ts';
import { formatDate, formatDateTime, formatDay, zoneLabel } from '../domain/time.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import { stageDefinitions } from '../../machines/stages.ts';
import type { Dashboard } from '../workflows/programme/dashboard.ts';
import type { ProgrammeRow } from '../workflows/programme/reads.ts';
import { renderFundChart } from './charts/fund.ts';
import { DAY_MS, timeOf } from './charts/svg.ts';
import { renderWaitingChart } from './charts/waiting-times.ts';
import { holdsText, programmeTimeline } from './programme-timeline.ts';
import { stageName } from './refusals.ts';

const HOUR_MS = 60 * 60 * 1000;

/** A duration in Russian (or English) typography: days with one decimal, hours under a day. */
export function durationText(t: Translate, lang: Lang, ms: number | null): string {
  if (ms === null) return '—';
  const format = numberFormat(localeOf(lang), { maximumFractionDigits: 1 });
  return ms < DAY_MS ? t('dashboard.waiting.hours', { hours: format.format(ms / HOUR_MS) }) : t('dashboard.waiting.days', { days: format.format(ms / DAY_MS) });
}

/** The link of the applications list under a programme, a municipality and a state (either may be absent). */
export function listHref(programmeId: number, filter: { municipalityId?: number; state?: string }): string {
  const params = new URLSearchParams({ programmeId: String(programmeId) });
  if (filter.municipalityId !== undefined) params.set('municipalityId', String(filter.municipalityId));
  if (filter.state !== undefined) params.set('state', filter.state);
  return `/applications?${params.toString()}`;
}

/**
 * The dashboard page's model: the figures of `programmeDashboard` with every text in the page's
 * language, numbers and money in its typography, the links, and the three SVG pictures.
 */
export function dashboardPageModel(t: Translate, lang: Lang, programme: ProgrammeRow, dashboard: Dashboard, now: Date) {
  const number = (n: number) => numberFormat(localeOf(lang)).format(n);
  const money = (kopecks: number) => `${formatRoubles(kopecks, lang)} ₽`;
  const stages = dashboard.stages.map((stage) => ({
    ...stage,
    title: stageName(t, stage.key),
    href: `/programmes/${programme.id}/stages/${stage.no}`,
    holds: holdsText(t, stageDefinitions.find((d) => d.key === stage.key)?.holdsStates ?? [], dashboard.matrix.totals),
    lateDays: stage.overdue && stage.plannedEnd ? Math.round((timeOf(dashboard.today) - timeOf(stage.plannedEnd)) / DAY_MS) : 0,
  }));
  const { fund, matrix } = dashboard;
  const waitingBars = dashboard.waiting
    .filter((row) => row.medianMs !== null && row.p90Ms !== null)
    .map((row) => ({
      state: row.state,
      label: t(`state.${row.state}`),
      medianMs: row.medianMs!,
      p90Ms: row.p90Ms!,
      text: t('dashboard.waiting.chartText', { median: durationText(t, lang, row.medianMs), p90: durationText(t, lang, row.p90Ms) }),
    }));
  return {
    title: t('dashboard.title', { title: programme.title }),
    programme,
    dashboard,
    intro: t('dashboard.intro', { today: formatDay(dashboard.today, lang) }),
    computed: t('dashboard.computed', { at: formatDateTime(now.toISOString(), programme.timeZone, lang), zone: zoneLabel(programme.timeZone, now), api: `/api/programmes/${programme.id}/dashboard` }),
    number,
    timeline: programmeTimeline(
      t,
      programme,
      // The timeline reads the fields it draws; the rest of each row stays out of it.
      stages,
      now,
    ),
    currentStages: stages.filter((stage) => stage.running),
    lateStages: stages
      .filter((stage) => stage.overdue)
      .map((stage) => ({ ...stage, note: t('dashboard.stages.lateBy', { end: formatDay(stage.plannedEnd, lang), days: number(stage.lateDays) }) })),
    plannedEndText: (stage: { plannedEnd: string | null }) => (stage.plannedEnd ? t('dashboard.stages.plannedEnd', { end: formatDay(stage.plannedEnd, lang) }) : ''),
    matrix: {
      columns: matrix.states.map((state) => ({ state, label: t(`state.${state}`), total: matrix.totals[state] ?? 0, href: listHref(programme.id, { state }) })),
      rows: matrix.rows.map((row) => ({
        ...row,
        href: listHref(programme.id, { municipalityId: row.municipalityId }),
        cells: matrix.states.map((state) => ({ state, count: row.counts[state] ?? 0, href: listHref(programme.id, { municipalityId: row.municipalityId, state }) })),
      })),
      total: matrix.total,
      totalHref: listHref(programme.id, {}),
    },
    fund: [
      { key: 'fund', label: t('dashboard.fund.fund'), amount: money(fund.fundKopecks), count: null },
      { key: 'requested', label: t('dashboard.fund.requested'), amount: money(fund.requestedKopecks), count: number(fund.requestingCount) },
      { key: 'awarded', label: t('dashboard.fund.awarded'), amount: money(fund.awardedKopecks), count: number(fund.awardedCount) },
      { key: 'left', label: t('dashboard.fund.left'), amount: money(fund.leftKopecks), count: null },
    ],
    fundChart: renderFundChart(fund, {
      title: t('dashboard.fund.chartTitle'),
      description: t('dashboard.fund.chartDesc', { fund: money(fund.fundKopecks), awarded: money(fund.awardedKopecks), left: money(fund.leftKopecks), requested: money(fund.requestedKopecks) }),
      fund: t('dashboard.fund.fund'),
      requested: t('dashboard.fund.requested'),
      awarded: t('dashboard.fund.awarded'),
      left: t('dashboard.fund.left'),
      money,
    }),
    waiting: dashboard.waiting.map((row) => ({
      ...row,
      label: t(`state.${row.state}`),
      finishedText: number(row.finished),
      median: durationText(t, lang, row.medianMs),
      p90: durationText(t, lang, row.p90Ms),
      nowText: number(row.now),
      longest: row.longestSince === null ? '—' : durationText(t, lang, Math.max(0, now.getTime() - Date.parse(row.longestSince))),
      href: listHref(programme.id, { state: row.state }),
    })),
    waitingChart: waitingBars.length > 0 ? renderWaitingChart(waitingBars, { title: t('dashboard.waiting.chartTitle'), description: t('dashboard.waiting.chartDesc') }) : '',
    reviewers: dashboard.reviewers.map((load) => ({
      ...load,
      name: load.reviewerId === null ? t('dashboard.reviewers.nobody') : load.name,
      assignedText: number(load.assigned),
      underReviewText: number(load.underReview),
      oldestText: load.oldest
        ? t('dashboard.reviewers.waiting', {
            date: formatDate(load.oldest.waitingSince, programme.timeZone, lang),
            days: number(Math.max(0, Math.floor((now.getTime() - Date.parse(load.oldest.waitingSince)) / DAY_MS))),
          })
        : '',
    })),
    queueHref: `/queue?programmeId=${programme.id}`,
    idle: {
      list: dashboard.idleMunicipalities,
      text: t('dashboard.idle.count', { count: number(dashboard.idleMunicipalities.length), of: number(dashboard.idleMunicipalities.length + matrix.rows.length) }),
    },
  };
}
