import { escapeXml, DAY_MS, timeOf } from './svg.ts';

export interface TimelineStage {
  no: number;
  title: string;
  state: string;
  /** The stage is running now (machines/stage.ts `stageRunning`): its row is highlighted. */
  running: boolean;
  stateLabel: string;
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  overdue: boolean;
  /** The stage's page; empty for none (the public portal). */
  href: string;
  /** What the stage holds now, already in words: "Подана 9 · На проверке 5". */
  holds: string;
}

export interface TimelineLabels {
  title: string;
  description: string;
  today: string;
  overdue: string;
  planned: string;
  actual: string;
  monthNames: readonly string[];
}

const ROW = 36;
const LABEL = 330;
const HOLDS = 250;
const CHART = 560;
const TOP = 52;
const TITLE_CHARS = 52;

/** The colour of a stage's actual bar by its state. */
function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const stateColour: Record<string, string> = { planned: '#9aa5b1', active: '#1f5fbf', completed: '#2f7f86' };

/**
 * The programme's twelve stages as a server-rendered SVG timeline: a planned bar and an actual
 * bar per stage, a line for today, overdue stages marked, the active ones highlighted, and what
 * each stage holds written beside it. Every text is escaped.
 */
export function renderTimeline(stages: TimelineStage[], now: Date, labels: TimelineLabels): string {
  const times = stages.flatMap((s) => [s.plannedStart, s.plannedEnd, s.startedAt, s.completedAt].filter((v): v is string => v !== null).map(timeOf));
  times.push(now.getTime());
  const first = new Date(Math.min(...times));
  const last = new Date(Math.max(...times));
  const from = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
  const to = Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + 1, 1);
  const x = (time: number) => LABEL + ((time - from) / (to - from)) * CHART;
  const width = LABEL + CHART + HOLDS;
  const height = TOP + stages.length * ROW + 16;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${width} ${height}" width="100%" role="group" aria-labelledby="timeline-title timeline-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="timeline-title">${escapeXml(labels.title)}</title>`,
    `<desc id="timeline-desc">${escapeXml(labels.description)}</desc>`,
  );
  // Month grid, with the year written above each January (and above the first month).
  for (let month = new Date(from); month.getTime() < to; month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))) {
    const mx = x(month.getTime());
    parts.push(`<line x1="${mx.toFixed(1)}" y1="${TOP - 14}" x2="${mx.toFixed(1)}" y2="${height - 10}" stroke="#e4e7eb" stroke-width="1"/>`);
    parts.push(`<text x="${(mx + 2).toFixed(1)}" y="${TOP - 18}" fill="#52606d" font-size="9">${escapeXml(labels.monthNames[month.getUTCMonth()] ?? '')}</text>`);
    if (month.getUTCMonth() === 0 || month.getTime() === from) {
      parts.push(`<text x="${(mx + 2).toFixed(1)}" y="${TOP - 32}" fill="#1f2933" font-size="10" font-weight="700">${month.getUTCFullYear()}</text>`);
    }
  }
  stages.forEach((stage, index) => {
    const y = TOP + index * ROW;
    const active = stage.running;
    parts.push(
      `<g class="stage-row stage-row--${escapeXml(stage.state)}${stage.overdue ? ' stage-row--overdue' : ''}" data-stage-no="${stage.no}" data-state="${escapeXml(stage.state)}"${stage.overdue ? ' data-overdue="true"' : ''}>`,
    );
    if (active) parts.push(`<rect x="0" y="${y - 2}" width="${width}" height="${ROW - 2}" fill="#eaf2fd"/>`);
    parts.push(
      // The public portal draws the same timeline with no links: its stages have no page there.
      `${stage.href ? `<a href="${escapeXml(stage.href)}">` : ''}<text x="6" y="${y + 13}" fill="#1f2933" font-weight="${active ? 700 : 400}"><title>${escapeXml(`${stage.no}. ${stage.title}`)}</title>${escapeXml(shorten(`${stage.no}. ${stage.title}`, TITLE_CHARS))}</text>${stage.href ? '</a>' : ''}`,
      `<text x="6" y="${y + 26}" fill="#52606d" font-size="10">${escapeXml(stage.stateLabel)}</text>`,
    );
    if (stage.plannedStart && stage.plannedEnd) {
      const px = x(timeOf(stage.plannedStart));
      const pw = Math.max(2, x(timeOf(stage.plannedEnd) + DAY_MS) - px);
      parts.push(
        `<rect class="planned-bar" x="${px.toFixed(1)}" y="${y + 2}" width="${pw.toFixed(1)}" height="10" rx="2" fill="#f5f7fa" stroke="#7b8794" stroke-dasharray="3 2"><title>${escapeXml(`${labels.planned}: ${stage.plannedStart} — ${stage.plannedEnd}`)}</title></rect>`,
      );
    }
    if (stage.startedAt) {
      const ax = x(timeOf(stage.startedAt));
      const end = stage.completedAt ? timeOf(stage.completedAt) : now.getTime();
      const aw = Math.max(2, x(end) - ax);
      parts.push(
        `<rect class="actual-bar" x="${ax.toFixed(1)}" y="${y + 15}" width="${aw.toFixed(1)}" height="10" rx="2" fill="${stateColour[stage.state] ?? '#9aa5b1'}"><title>${escapeXml(`${labels.actual}: ${stage.startedAt.slice(0, 10)} — ${stage.completedAt ? stage.completedAt.slice(0, 10) : '…'}`)}</title></rect>`,
      );
    }
    if (stage.overdue && stage.plannedEnd) {
      const ox = x(timeOf(stage.plannedEnd) + DAY_MS);
      parts.push(
        `<g class="overdue-mark"><path d="M${(ox - 5).toFixed(1)} ${y + 12} L${ox.toFixed(1)} ${y + 1} L${(ox + 5).toFixed(1)} ${y + 12} Z" fill="#c81e1e"/><text x="${(ox + 8).toFixed(1)}" y="${y + 11}" fill="#c81e1e" font-size="10" font-weight="700">${escapeXml(labels.overdue)}</text></g>`,
      );
    }
    if (stage.holds) {
      // Two lines at most, split between the counts, so that nothing runs off the picture.
      const items = stage.holds.split(' · ');
      const half = Math.ceil(items.length / 2);
      const lines = stage.holds.length > 34 ? [items.slice(0, half).join(' · '), items.slice(half).join(' · ')] : [stage.holds];
      lines.forEach((line, i) => parts.push(`<text class="holds" x="${LABEL + CHART + 10}" y="${y + 12 + i * 13}" fill="#1f2933" font-size="11">${escapeXml(line)}</text>`));
    }
    parts.push(`</g>`);
  });
  const tx = x(now.getTime());
  parts.push(
    `<g class="today-line"><line x1="${tx.toFixed(1)}" y1="${TOP - 10}" x2="${tx.toFixed(1)}" y2="${height - 6}" stroke="#c81e1e" stroke-width="1.5" stroke-dasharray="4 3"/><text x="${(tx + 3).toFixed(1)}" y="${TOP - 4}" fill="#c81e1e" font-size="10" font-weight="700">${escapeXml(labels.today)}</text></g>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
