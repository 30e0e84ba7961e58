import { DAY_MS, escapeXml, timeOf } from './svg.ts';

/** One source of money on the funds chart: what the agreement says, what came in, what was spent (kopecks). */
export interface FundsRow {
  key: string;
  label: string;
  agreed: number | null;
  received: number;
  spent: number | null;
}

export interface FundsLabels {
  title: string;
  description: string;
  agreed: string;
  received: string;
  spent: string;
  /** Money in words for the bars' own titles: "1 234,56 ₽". */
  money: (kopecks: number) => string;
}

const F_LABEL = 190;
const F_CHART = 520;
const F_VALUE = 150;
const BAR = 12;
const GROUP = 3 * BAR + 18;
const F_TOP = 30;

/** The three measures, each its own colour (the legend names them; the table below holds the same figures). */
const measures = [
  { key: 'agreed', fill: '#9aa5b1' },
  { key: 'received', fill: '#1f5fbf' },
  { key: 'spent', fill: '#2f7f86' },
] as const;

/**
 * Agreed vs received vs spent per source as one server-rendered SVG (issue 11): a group of three
 * bars per source on one scale, the figures written beside each bar. Titled and described for
 * screen readers; every text is escaped.
 */
export function renderFundsChart(rows: readonly FundsRow[], labels: FundsLabels): string {
  const width = F_LABEL + F_CHART + F_VALUE;
  const height = F_TOP + rows.length * GROUP + 6;
  const max = Math.max(1, ...rows.flatMap((r) => [r.agreed ?? 0, r.received, r.spent ?? 0]));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="funds-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="funds-chart-title funds-chart-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="funds-chart-title">${escapeXml(labels.title)}</title>`,
    `<desc id="funds-chart-desc">${escapeXml(labels.description)}</desc>`,
  ];
  // The legend, across the top.
  measures.forEach((m, i) => {
    const x = F_LABEL + i * 170;
    parts.push(`<rect x="${x}" y="6" width="12" height="12" fill="${m.fill}"/>`, `<text x="${x + 18}" y="16" fill="#1f2933">${escapeXml(labels[m.key])}</text>`);
  });
  rows.forEach((row, i) => {
    const y = F_TOP + i * GROUP;
    parts.push(`<g class="funds-row" data-source="${escapeXml(row.key)}">`, `<text x="${F_LABEL - 8}" y="${y + BAR * 1.5 + 4}" text-anchor="end" fill="#1f2933">${escapeXml(row.label)}</text>`);
    measures.forEach((m, j) => {
      const value = row[m.key];
      const by = y + j * BAR;
      const w = value === null ? 0 : Math.max(value > 0 ? 1 : 0, (F_CHART * value) / max);
      const words = value === null ? '—' : labels.money(value);
      parts.push(
        `<rect x="${F_LABEL}" y="${by}" width="${w.toFixed(1)}" height="${BAR - 2}" fill="${m.fill}" data-measure="${m.key}" data-kopecks="${value ?? ''}"><title>${escapeXml(`${row.label}, ${labels[m.key]}: ${words}`)}</title></rect>`,
        `<text x="${(F_LABEL + w + 6).toFixed(1)}" y="${by + BAR - 3}" fill="#3e4c59" font-size="10">${escapeXml(words)}</text>`,
      );
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface TimelineMark {
  label: string;
  /** YYYY-MM-DD */
  on: string;
  dayText: string;
}

export interface MilestoneLabels {
  title: string;
  description: string;
  planned: string;
  /** "01.03.2027 — 31.08.2027" */
  plannedText: string;
  today: string;
}

const M_LABEL = 250;
const M_CHART = 520;
const M_VALUE = 110;
const M_ROW = 26;
const M_TOP = 24;

/**
 * The works' timeline (issue 11): the planned duration (the contract's date plus the form's
 * months) as a bar, each milestone recorded as a dot on the same scale of days, today as a line.
 */
export function renderMilestoneTimeline(plan: { from: string; to: string } | null, marks: readonly TimelineMark[], today: string, labels: MilestoneLabels): string {
  const days = [...(plan ? [plan.from, plan.to] : []), ...marks.map((m) => m.on), today].map(timeOf);
  const start = Math.min(...days);
  const end = Math.max(start + DAY_MS, ...days);
  const x = (day: string) => M_LABEL + ((timeOf(day) - start) / (end - start)) * M_CHART;
  const rows = (plan ? 1 : 0) + marks.length;
  const width = M_LABEL + M_CHART + M_VALUE;
  const height = M_TOP + Math.max(1, rows) * M_ROW + 8;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="milestone-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="milestone-chart-title milestone-chart-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="milestone-chart-title">${escapeXml(labels.title)}</title>`,
    `<desc id="milestone-chart-desc">${escapeXml(labels.description)}</desc>`,
  ];
  let row = 0;
  if (plan) {
    const y = M_TOP + row * M_ROW;
    parts.push(
      `<g class="milestone-plan"><text x="${M_LABEL - 8}" y="${y + 14}" text-anchor="end" fill="#1f2933">${escapeXml(labels.planned)}</text>`,
      `<rect x="${x(plan.from).toFixed(1)}" y="${y + 4}" width="${Math.max(1, x(plan.to) - x(plan.from)).toFixed(1)}" height="14" fill="#d5dbe3" stroke="#52606d"><title>${escapeXml(`${labels.planned}: ${labels.plannedText}`)}</title></rect></g>`,
    );
    row += 1;
  }
  for (const mark of marks) {
    const y = M_TOP + row * M_ROW;
    const cx = x(mark.on);
    parts.push(
      `<g class="milestone-mark" data-on="${escapeXml(mark.on)}"><text x="${M_LABEL - 8}" y="${y + 15}" text-anchor="end" fill="#1f2933">${escapeXml(mark.label)}</text>`,
      `<line x1="${M_LABEL}" x2="${M_LABEL + M_CHART}" y1="${y + 11}" y2="${y + 11}" stroke="#e4e7eb"/>`,
      `<circle cx="${cx.toFixed(1)}" cy="${y + 11}" r="6" fill="#1f5fbf"><title>${escapeXml(`${mark.label}: ${mark.dayText}`)}</title></circle>`,
      `<text x="${M_LABEL + M_CHART + 8}" y="${y + 15}" fill="#3e4c59">${escapeXml(mark.dayText)}</text></g>`,
    );
    row += 1;
  }
  const tx = x(today);
  parts.push(
    `<line class="milestone-today" x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${M_TOP - 6}" y2="${height - 4}" stroke="#b42318" stroke-dasharray="4 3"/>`,
    `<text x="${tx.toFixed(1)}" y="${M_TOP - 10}" text-anchor="middle" fill="#b42318" font-size="11">${escapeXml(labels.today)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

/** The day `months` after `day` (YYYY-MM-DD), clamped to the month's end: 31 January + 1 month → 28/29 February. */
export function addMonths(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, last));
  return target.toISOString().slice(0, 10);
}
