import { fundSources } from '../domain/implementation.ts';
import { localeOf, numberFormat } from '../domain/intl.ts';
import { formatWholeRoubles } from '../domain/money.ts';
import { formatDateTime } from '../domain/time.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import { type Funnel, type GroupFigures, type ProgrammeFigures, type ProgrammeReport, type SourceFigures } from '../read/report.ts';
import { renderFundsChart } from './charts/implementation.ts';
import { escapeXml } from './charts/svg.ts';

/**
 * The analytical report's page model (issue 13): every figure in words — roubles with ₽ after the
 * number, ratios with two decimals, shares in per cent — and its footnote, the two charts, the
 * comparison with the programme before, the recommendations. The XLSX reads the same rows.
 */
export interface ReportCell {
  text: string;
  /** The figure behind the words, for the XLSX and the tests: kopecks, a count or a ratio; null where there is none. */
  value: number | null;
  kind: 'money' | 'count' | 'ratio' | 'share';
}

export interface ReportRow {
  key: string;
  label: string;
  cells: ReportCell[];
  /** A footnote of the row's own, beside its label (the savings; the totals' rounding), and its number once known. */
  note?: string;
  noteNo?: number;
}

export interface ReportTable {
  key: string;
  caption: string;
  note: string;
  /** The footnote's number on the page, set once the notes are known. */
  noteNo?: number;
  columns: string[];
  rows: ReportRow[];
  totals?: ReportRow;
}

export interface ReportView {
  title: string;
  programmeTitle: string;
  previousTitle: string | null;
  ledgerLine: string;
  tables: ReportTable[];
  fundsChart: string;
  funnelChart: string;
  recommendations: { current: { text: string; byLine: string } | null; earlier: { text: string; byLine: string }[] };
  notes: { key: string; text: string }[];
}

const FUNNEL: (keyof Funnel)[] = ['created', 'submitted', 'accepted', 'awarded', 'closed', 'terminated', 'rejected', 'notAwarded', 'withdrawn'];

export function reportView(t: Translate, lang: Lang, timeZone: string, report: ProgrammeReport): ReportView {
  const locale = localeOf(lang);
  // Whole roubles on the page (a summary, not a payment order): the rounding is a footnote of its own.
  const roubles = (kopecks: number) => `${formatWholeRoubles(kopecks, lang)}\u00a0₽`;
  const money = (kopecks: number | null): ReportCell => ({ text: kopecks === null ? '—' : roubles(kopecks), value: kopecks, kind: 'money' });
  const count = (n: number | null): ReportCell => ({ text: n === null ? '—' : numberFormat(locale).format(n), value: n, kind: 'count' });
  const ratio = (n: number | null): ReportCell => ({ text: n === null ? '—' : t('report.ratio', { value: numberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n) }), value: n, kind: 'ratio' });
  // "0,26 ₽" per rouble of subsidy: the ₽ kept with its number.
  const perMillion = (n: number | null): ReportCell => ({ text: n === null ? '—' : numberFormat(locale, { maximumFractionDigits: 1 }).format(n), value: n, kind: 'ratio' });
  const share = (bp: number | null): ReportCell => ({ text: bp === null ? '—' : `${numberFormat(locale, { maximumFractionDigits: 1 }).format(bp / 100)} %`, value: bp, kind: 'share' });
  const { current, previous } = report;
  const sourceLabel = (source: string) => t(`source.${source}`);
  const both = <T,>(pick: (f: ProgrammeFigures) => T, cell: (value: T) => ReportCell): ReportCell[] => [cell(pick(current)), ...(previous ? [cell(pick(previous))] : [])];
  const sideBySide = previous ? [t('report.current', { year: current.year, title: current.title }), t('report.current', { year: previous.year, title: previous.title })] : [t('report.current', { year: current.year, title: current.title })];

  const fundsRow = (key: string, label: string, pick: (s: SourceFigures) => number): ReportRow => ({
    key,
    label,
    cells: [money(pick(current.planned)), money(pick(current.plannedAwarded)), money(current.agreements > 0 ? pick(current.agreed) : null), money(pick(current.received)), money(pick(current.spent))],
  });
  const funds: ReportTable = {
    key: 'funds',
    caption: t('report.section.funds'),
    note: 'planned',
    columns: [t('report.col.source'), t('report.col.planned'), t('report.col.plannedAwarded'), t('report.col.agreed'), t('report.col.received'), t('report.col.spent')],
    rows: fundSources.map((source) => fundsRow(source, sourceLabel(source), (s) => s[source])),
    // The totals are sums of the exact kopecks: the rounding note says why they may differ by a rouble from the rows shown.
    totals: { ...fundsRow('total', t('report.col.total'), (s) => s.total), note: 'rounding' },
  };
  const summary: ReportTable = {
    key: 'summary',
    caption: t('report.row.awarded'),
    note: 'agreed',
    columns: [t('report.figure'), ...sideBySide],
    rows: [
      { key: 'fund', label: t('report.row.fund'), cells: both((f) => f.fundKopecks, money) },
      { key: 'planned', label: t('report.col.planned'), cells: both((f) => f.planned.total, money) },
      { key: 'awarded', label: t('report.row.awarded'), cells: both((f) => f.awardedKopecks, money) },
      { key: 'agreements', label: t('report.row.agreements'), cells: both((f) => f.agreements, count) },
      { key: 'agreed', label: t('report.col.agreed'), cells: both((f) => (f.agreements > 0 ? f.agreed.total : null), money) },
      { key: 'received', label: t('report.col.received'), cells: both((f) => f.received.total, money) },
      { key: 'spent', label: t('report.col.spent'), cells: both((f) => f.spent.total, money) },
      { key: 'savings', label: t('report.row.savings'), cells: both((f) => f.savings, money), note: 'savings' },
    ],
  };
  const leverage: ReportTable = {
    key: 'leverage',
    caption: t('report.section.leverage'),
    note: 'leverage',
    columns: [t('report.figure'), ...(previous ? [`${t('report.col.plannedAwarded')}, ${current.year}`, `${t('report.col.agreed')}, ${current.year}`, `${t('report.col.agreed')}, ${previous.year}`] : [t('report.col.plannedAwarded'), t('report.col.agreed')])],
    rows: (['all', 'localBudget', 'residents', 'business'] as const).map((key) => ({
      key: `leverage-${key}`,
      label: t(key === 'all' ? 'report.row.leverageAll' : key === 'localBudget' ? 'report.row.leverageLocal' : key === 'residents' ? 'report.row.leverageResidents' : 'report.row.leverageBusiness'),
      cells: [ratio(current.leverage.planned?.[key] ?? null), ratio(current.leverage.agreed?.[key] ?? null), ...(previous ? [ratio(previous.leverage.agreed?.[key] ?? previous.leverage.planned?.[key] ?? null)] : [])],
    })),
  };
  leverage.rows.push({
    key: 'residents-share',
    label: t('report.row.residentsShare'),
    cells: [share(current.residentsShareBp.planned), share(current.residentsShareBp.agreed), ...(previous ? [share(previous.residentsShareBp.agreed ?? previous.residentsShareBp.planned)] : [])],
  });
  const people: ReportTable = {
    key: 'people',
    caption: t('report.section.people'),
    note: 'people',
    columns: [t('report.figure'), ...sideBySide],
    rows: [
      { key: 'beneficiaries', label: t('report.row.beneficiaries'), cells: both((f) => f.beneficiaries, count) },
      { key: 'participants', label: t('report.row.participants'), cells: both((f) => f.meetingParticipants, count) },
      { key: 'beneficiaries-per-million', label: t('report.row.beneficiariesPerMillion'), cells: both((f) => f.beneficiariesPerMillion, perMillion) },
      { key: 'participants-per-million', label: t('report.row.participantsPerMillion'), cells: both((f) => f.participantsPerMillion, perMillion) },
    ],
  };
  const funnel: ReportTable = {
    key: 'funnel',
    caption: t('report.section.funnel'),
    note: 'funnel',
    columns: [t('report.col.stage'), ...sideBySide],
    rows: FUNNEL.map((key) => ({ key, label: t(`report.funnel.${key}`), cells: both((f) => f.funnel[key], count) })),
  };
  const groupTable = (key: string, caption: string, first: string, groups: (GroupFigures & { name?: string; kind?: string })[], labelOf: (g: GroupFigures & { name?: string; kind?: string }) => string): ReportTable => ({
    key,
    caption,
    note: 'groups',
    columns: [first, t('report.col.submitted'), t('report.col.awarded'), t('report.col.plannedTotal'), t('report.col.awardedKopecks'), t('report.col.received'), t('report.col.beneficiaries')],
    rows: groups.map((g) => ({ key: g.key, label: labelOf(g), cells: [count(g.submitted), count(g.awarded), money(g.plannedTotal), money(g.awardedKopecks), money(g.received), count(g.beneficiaries)] })),
    totals: {
      key: 'total',
      label: t('report.col.total'),
      note: 'rounding',
      cells: [
        count(groups.reduce((s, g) => s + g.submitted, 0)),
        count(groups.reduce((s, g) => s + g.awarded, 0)),
        money(groups.reduce((s, g) => s + g.plannedTotal, 0)),
        money(groups.reduce((s, g) => s + g.awardedKopecks, 0)),
        money(groups.reduce((s, g) => s + g.received, 0)),
        count(groups.reduce((s, g) => s + g.beneficiaries, 0)),
      ],
    },
  });
  const tables = [
    funds,
    summary,
    leverage,
    people,
    funnel,
    groupTable('by-type', t('report.section.byType'), t('report.col.type'), current.byType, (g) => (g.key ? t(`projectType.${g.key}`) : '—')),
    groupTable('by-municipality', t('report.section.byMunicipality'), t('report.col.municipality'), current.byMunicipality, (g) => g.name ?? g.key),
    groupTable('by-kind', t('report.section.byKind'), t('report.col.kind'), current.byKind, (g) => t(`admin.municipalityKind.${g.key}`)),
  ];
  const noteKeys = ['planned', 'agreed', 'leverage', 'people', 'funnel', 'savings', 'groups', 'rounding'];
  for (const table of tables) {
    table.noteNo = noteKeys.indexOf(table.note) + 1;
    for (const row of [...table.rows, ...(table.totals ? [table.totals] : [])]) if (row.note) row.noteNo = noteKeys.indexOf(row.note) + 1;
  }
  const byLine = (r: { by: string; at: string }) => t('report.recommendations.by', { by: r.by, at: formatDateTime(r.at, timeZone, lang) });
  const versions = report.recommendations.map((r) => ({ text: r.text, byLine: byLine(r) }));
  return {
    title: t('report.title', { title: current.title }),
    programmeTitle: current.title,
    previousTitle: previous ? t('report.current', { year: previous.year, title: previous.title }) : null,
    ledgerLine: t('report.ledger', { events: numberFormat(locale).format(report.ledger.events), head: report.ledger.head }),
    tables,
    fundsChart: renderFundsChart(
      fundSources.map((source) => ({ key: source, label: sourceLabel(source), agreed: current.agreements > 0 ? current.agreed[source] : null, received: current.received[source], spent: current.spent[source] })),
      { title: t('report.chart.funds'), description: t('report.chart.fundsDesc'), agreed: t('report.col.agreed'), received: t('report.col.received'), spent: t('report.col.spent'), money: roubles },
    ),
    funnelChart: renderFunnelChart(
      (['created', 'submitted', 'accepted', 'awarded', 'closed'] as const).map((key) => ({ key, label: t(`report.funnel.${key}`), current: current.funnel[key], previous: previous?.funnel[key] ?? null })),
      { title: t('report.chart.funnel'), description: t('report.chart.funnelDesc'), current: sideBySide[0]!, previous: sideBySide[1] ?? null, number: (n) => numberFormat(locale).format(n) },
    ),
    recommendations: { current: versions.at(-1) ?? null, earlier: versions.slice(0, -1).reverse() },
    notes: noteKeys.map((key) => ({ key, text: t(`report.note.${key}`) })),
  };
}

/** The funnel as bars, this programme's beside the one before it (issue 13): server-rendered, titled, every text escaped. */
function renderFunnelChart(
  steps: { key: string; label: string; current: number; previous: number | null }[],
  labels: { title: string; description: string; current: string; previous: string | null; number: (n: number) => string },
): string {
  const LABEL = 190;
  const CHART = 520;
  const VALUE = 80;
  const BAR = 12;
  const bars = labels.previous ? 2 : 1;
  const GROUP = bars * BAR + 12;
  const TOP = 28;
  const width = LABEL + CHART + VALUE;
  const height = TOP + steps.length * GROUP + 4;
  const max = Math.max(1, ...steps.flatMap((s) => [s.current, s.previous ?? 0]));
  const series = [{ key: 'current', fill: '#1f5fbf', name: labels.current }, ...(labels.previous ? [{ key: 'previous', fill: '#9aa5b1', name: labels.previous }] : [])] as const;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="funnel-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="funnel-chart-title funnel-chart-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="funnel-chart-title">${escapeXml(labels.title)}</title>`,
    `<desc id="funnel-chart-desc">${escapeXml(labels.description)}</desc>`,
  ];
  series.forEach((s, i) => {
    const x = LABEL + i * 300;
    parts.push(`<rect x="${x}" y="6" width="12" height="12" fill="${s.fill}"/>`, `<text x="${x + 18}" y="16" fill="#1f2933">${escapeXml(s.name)}</text>`);
  });
  steps.forEach((step, i) => {
    const y = TOP + i * GROUP;
    parts.push(`<g class="funnel-step" data-step="${escapeXml(step.key)}"><text x="${LABEL - 8}" y="${y + (bars * BAR) / 2 + 4}" text-anchor="end" fill="#1f2933">${escapeXml(step.label)}</text>`);
    series.forEach((s, j) => {
      const value = s.key === 'current' ? step.current : step.previous;
      if (value === null) return;
      const w = Math.max(value > 0 ? 1 : 0, (CHART * value) / max);
      const by = y + j * BAR;
      parts.push(
        `<rect x="${LABEL}" y="${by}" width="${w.toFixed(1)}" height="${BAR - 2}" fill="${s.fill}" data-count="${value}"><title>${escapeXml(`${step.label}, ${s.name}: ${labels.number(value)}`)}</title></rect>`,
        `<text x="${(LABEL + w + 6).toFixed(1)}" y="${by + BAR - 3}" fill="#3e4c59" font-size="10">${escapeXml(labels.number(value))}</text>`,
      );
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}
