import { escapeXml } from './svg.ts';

export interface FundFigures {
  fundKopecks: number;
  requestedKopecks: number;
  awardedKopecks: number;
  leftKopecks: number;
}

export interface FundLabels {
  title: string;
  description: string;
  fund: string;
  requested: string;
  awarded: string;
  left: string;
  /** A sum in words, as the table beside gives it: «1 234 567,00 ₽». */
  money: (kopecks: number) => string;
}

const LABEL = 150;
const CHART = 560;
const VALUE = 210;
const ROW = 40;
const TOP = 12;

/**
 * The programme's fund as a server-rendered SVG: the fund's bar split into awarded and left, and
 * the subsidy requested beside it on the same scale, the fund's edge marked across both, so that
 * a demand beyond the fund shows as a bar running past the line. Titled and described for screen
 * readers (the table beside holds the same figures); every text is escaped.
 */
export function renderFundChart(figures: FundFigures, labels: FundLabels): string {
  const scale = Math.max(1, figures.fundKopecks, figures.requestedKopecks, figures.awardedKopecks);
  const w = (kopecks: number) => (CHART * Math.max(0, kopecks)) / scale;
  const width = LABEL + CHART + VALUE;
  const height = TOP + 2 * ROW + 30;
  const awarded = Math.min(w(figures.awardedKopecks), w(figures.fundKopecks));
  const fundEdge = LABEL + w(figures.fundKopecks);
  const row = (i: number) => TOP + i * ROW;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="fund-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="fund-chart-title fund-chart-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="fund-chart-title">${escapeXml(labels.title)}</title>`,
    `<desc id="fund-chart-desc">${escapeXml(labels.description)}</desc>`,
    `<g class="fund-bar" data-fund="${figures.fundKopecks}" data-awarded="${figures.awardedKopecks}" data-left="${figures.leftKopecks}">`,
    `<text x="${LABEL - 8}" y="${row(0) + 17}" text-anchor="end" fill="#1f2933">${escapeXml(labels.fund)}</text>`,
    `<rect x="${LABEL}" y="${row(0) + 4}" width="${w(figures.fundKopecks).toFixed(1)}" height="20" fill="#e4e7eb" stroke="#7b8794"><title>${escapeXml(`${labels.left}: ${labels.money(figures.leftKopecks)}`)}</title></rect>`,
    `<rect x="${LABEL}" y="${row(0) + 4}" width="${awarded.toFixed(1)}" height="20" fill="#3f9a5f"><title>${escapeXml(`${labels.awarded}: ${labels.money(figures.awardedKopecks)}`)}</title></rect>`,
    `<text x="${LABEL + CHART + 8}" y="${row(0) + 17}" fill="#1f2933">${escapeXml(labels.money(figures.fundKopecks))}</text>`,
    '</g>',
    `<g class="requested-bar" data-requested="${figures.requestedKopecks}">`,
    `<text x="${LABEL - 8}" y="${row(1) + 17}" text-anchor="end" fill="#1f2933">${escapeXml(labels.requested)}</text>`,
    `<rect x="${LABEL}" y="${row(1) + 4}" width="${w(figures.requestedKopecks).toFixed(1)}" height="20" fill="#1f5fbf"><title>${escapeXml(`${labels.requested}: ${labels.money(figures.requestedKopecks)}`)}</title></rect>`,
    `<text x="${LABEL + CHART + 8}" y="${row(1) + 17}" fill="#1f2933">${escapeXml(labels.money(figures.requestedKopecks))}</text>`,
    '</g>',
    `<line x1="${fundEdge.toFixed(1)}" y1="${row(0)}" x2="${fundEdge.toFixed(1)}" y2="${row(2) + 4}" stroke="#c81e1e" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    // The legend: what the two colours of the fund's bar are.
    `<rect x="${LABEL}" y="${row(2) + 10}" width="12" height="12" fill="#3f9a5f"/>`,
    `<text x="${LABEL + 18}" y="${row(2) + 20}" fill="#1f2933">${escapeXml(`${labels.awarded}: ${labels.money(figures.awardedKopecks)}`)}</text>`,
    `<rect x="${LABEL + 300}" y="${row(2) + 10}" width="12" height="12" fill="#e4e7eb" stroke="#7b8794"/>`,
    `<text x="${LABEL + 318}" y="${row(2) + 20}" fill="#1f2933">${escapeXml(`${labels.left}: ${labels.money(figures.leftKopecks)}`)}</text>`,
    '</svg>',
  ].join('');
}
