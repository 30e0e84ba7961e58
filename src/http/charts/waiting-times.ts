import { escapeXml } from './svg.ts';

export interface WaitingBar {
  state: string;
  label: string;
  medianMs: number;
  p90Ms: number;
  /** The figures in words, as the table gives them: «медиана 3,5 дн. · 90 % — 12 дн.». */
  text: string;
}

const LABEL = 230;
const CHART = 430;
const VALUE = 280;
const ROW = 30;
const TOP = 10;

/**
 * The waiting times per state as a server-rendered SVG: for each state a dark bar to the median
 * and a light one on to the 90th percentile, on one scale, the figures written beside. Titled and
 * described for screen readers (the table under it holds the same figures); every text is escaped.
 */
export function renderWaitingChart(bars: readonly WaitingBar[], labels: { title: string; description: string }): string {
  const scale = Math.max(1, ...bars.map((bar) => bar.p90Ms));
  const w = (ms: number) => Math.max(1, (CHART * ms) / scale);
  const width = LABEL + CHART + VALUE;
  const height = TOP + bars.length * ROW + 6;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="waiting-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="waiting-chart-title waiting-chart-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="waiting-chart-title">${escapeXml(labels.title)}</title>`,
    `<desc id="waiting-chart-desc">${escapeXml(labels.description)}</desc>`,
  ];
  bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    parts.push(
      `<g class="waiting-bar" data-state="${escapeXml(bar.state)}" data-median-ms="${bar.medianMs}" data-p90-ms="${bar.p90Ms}">`,
      `<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end" fill="#1f2933">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 3}" width="${w(bar.p90Ms).toFixed(1)}" height="16" fill="#9cc3f5"/>`,
      `<rect x="${LABEL}" y="${y + 3}" width="${w(bar.medianMs).toFixed(1)}" height="16" fill="#1f5fbf"><title>${escapeXml(`${bar.label}: ${bar.text}`)}</title></rect>`,
      `<text x="${LABEL + CHART + 8}" y="${y + 15}" fill="#1f2933">${escapeXml(bar.text)}</text>`,
      '</g>',
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
