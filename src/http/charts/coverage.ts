import { escapeXml } from './svg.ts';

export interface CoverageBar {
  key: string;
  label: string;
  /** Municipalities covered, out of `of`. */
  covered: number;
  of: number;
  /** The bar's figures in words, as the table gives them too: "12 из 30 · 340 участников". */
  text: string;
}

const LABEL = 260;
const CHART = 420;
const VALUE = 240;
const ROW = 34;
const TOP = 16;

/**
 * The coverage of a programme as a server-rendered SVG: one bar per kind of entry, the share of
 * municipalities it reached, its figures written beside it. Titled and described for screen
 * readers (the table under it holds the same figures); every text is escaped.
 */
export function renderCoverageChart(bars: readonly CoverageBar[], labels: { title: string; description: string }): string {
  const width = LABEL + CHART + VALUE;
  const height = TOP + bars.length * ROW + 8;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="coverage-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="coverage-chart-title coverage-chart-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="coverage-chart-title">${escapeXml(labels.title)}</title>`,
    `<desc id="coverage-chart-desc">${escapeXml(labels.description)}</desc>`,
  ];
  bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    const share = bar.of > 0 ? Math.min(1, bar.covered / bar.of) : 0;
    parts.push(
      `<g class="coverage-bar" data-kind="${escapeXml(bar.key)}" data-covered="${bar.covered}" data-of="${bar.of}">`,
      `<text x="${LABEL - 8}" y="${y + 17}" text-anchor="end" fill="#1f2933">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 4}" width="${CHART}" height="18" fill="#e4e7eb"/>`,
      `<rect x="${LABEL}" y="${y + 4}" width="${(CHART * share).toFixed(1)}" height="18" fill="#1f5fbf"><title>${escapeXml(`${bar.label}: ${bar.text}`)}</title></rect>`,
      `<text x="${LABEL + CHART + 8}" y="${y + 17}" fill="#1f2933">${escapeXml(bar.text)}</text>`,
      '</g>',
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
