import { localeOf, numberFormat } from '../domain/intl.ts';
import { formatRoubles, roublesInputValue } from '../domain/money.ts';
import { formatDate, formatDateTime, formatDay, zoneLabel } from '../domain/time.ts';
import { translator, type Lang } from '../i18n/index.ts';

/** The colour family of each state, for its badge: the template only names the class. */
const stateTone: Record<string, string> = {
  draft: 'neutral',
  submitted: 'info',
  'under-review': 'progress',
  returned: 'warning',
  accepted: 'success',
  rejected: 'danger',
  withdrawn: 'muted',
  awarded: 'success-strong',
  'not-awarded': 'muted',
  implementation: 'progress',
  closed: 'done',
  terminated: 'danger',
  planned: 'neutral',
  active: 'progress',
  completed: 'done',
};

export function stateTone_(state: string): string {
  return stateTone[state] ?? stateTone[state.split('.')[0] ?? ''] ?? 'neutral';
}

/** Formatting for templates, so that templates hold no logic beyond loops and conditions. */
export function viewHelpers(lang: Lang) {
  const t = translator(lang);
  /** From and to, either of them unknown: «01.03.2027 — 30.04.2027», «с 01.03.2027», or a dash (never «— — …»). */
  const period = (from: string | null, to: string | null) =>
    from && to ? t('period.range', { from, to }) : from ? t('period.from', { from }) : to ? t('period.until', { to }) : '—';
  return {
    day: (ymd: string | null | undefined) => formatDay(ymd, lang),
    dayPeriod: (from: string | null | undefined, to: string | null | undefined) => period(from ? formatDay(from, lang) : null, to ? formatDay(to, lang) : null),
    datePeriod: (from: string | null | undefined, to: string | null | undefined, timeZone: string) =>
      period(from ? formatDate(from, timeZone, lang) : null, to ? formatDate(to, timeZone, lang) : null),
    money: (kopecks: number | null | undefined) => formatRoubles(kopecks, lang),
    moneyInput: (kopecks: number | null | undefined) => roublesInputValue(kopecks, lang),
    dateTime: (iso: string | null | undefined, timeZone: string) => formatDateTime(iso, timeZone, lang),
    date: (iso: string | null | undefined, timeZone: string) => formatDate(iso, timeZone, lang),
    zone: zoneLabel,
    tone: stateTone_,
    number: (n: number | null | undefined) => (n === null || n === undefined ? '—' : numberFormat(localeOf(lang)).format(n)),
  };
}
