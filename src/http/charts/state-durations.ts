import { escapeXml, toneFill, DAY_MS } from './svg.ts';

export interface StateSpan {
  state: string;
  label: string;
  tone: string;
  from: string;
  to: string;
  /** The span is still running: the application is in this state now. */
  current: boolean;
}

/** Turns the history's transitions into spans of time in each state; the last one runs to `now` unless the state is final. */
export function stateSpans(
  history: { at: string; to: string }[],
  now: Date,
  isFinal: (state: string) => boolean,
  describe: (state: string) => { label: string; tone: string },
): StateSpan[] {
  const spans: StateSpan[] = [];
  for (const event of history) {
    const last = spans.at(-1);
    if (last && last.state === event.to) continue;
    if (last) last.to = event.at;
    spans.push({ state: event.to, ...describe(event.to), from: event.at, to: event.at, current: false });
  }
  const tail = spans.at(-1);
  if (tail) {
    tail.current = true;
    tail.to = isFinal(tail.state) ? tail.from : now.toISOString();
  }
  return spans;
}

export function days(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / DAY_MS);
}

/**
 * The time an application spent in each state, on the programme's calendar: one band, a segment
 * per state in its badge colour, labelled where there is room, each with its dates in a tooltip.
 */
export function renderStateDurations(
  spans: StateSpan[],
  labels: { title: string; description: string; daysLabel: (n: number) => string; dateOf: (iso: string) => string },
): string {
  const width = 960;
  const height = 74;
  if (spans.length === 0) return '';
  const start = Date.parse(spans[0]!.from);
  const end = Math.max(start + DAY_MS, ...spans.map((s) => Date.parse(s.to)));
  const x = (iso: string) => 10 + ((Date.parse(iso) - start) / (end - start)) * (width - 20);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="state-durations" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="durations-title durations-desc" font-family="system-ui, sans-serif" font-size="11">`,
    `<title id="durations-title">${escapeXml(labels.title)}</title>`,
    `<desc id="durations-desc">${escapeXml(labels.description)}</desc>`,
  ];
  for (const span of spans) {
    const sx = x(span.from);
    const sw = Math.max(3, x(span.to) - sx);
    const colour = toneFill[span.tone] ?? toneFill.neutral!;
    const text = `${span.label}: ${labels.daysLabel(Math.round(days(span.from, span.to)))} (${labels.dateOf(span.from)} — ${labels.dateOf(span.to)})`;
    parts.push(
      `<g class="state-span${span.current ? ' state-span--current' : ''}" data-state="${escapeXml(span.state)}">`,
      `<rect x="${sx.toFixed(1)}" y="10" width="${sw.toFixed(1)}" height="26" fill="${colour.fill}" stroke="${span.current ? '#1f2933' : '#ffffff'}" stroke-width="${span.current ? 2 : 1}"><title>${escapeXml(text)}</title></rect>`,
    );
    if (sw > 70) parts.push(`<text x="${(sx + 4).toFixed(1)}" y="27" fill="${colour.text}">${escapeXml(span.label.length > sw / 7 ? `${span.label.slice(0, Math.floor(sw / 7) - 1)}…` : span.label)}</text>`);
    parts.push('</g>');
  }
  parts.push(
    `<text x="10" y="56" fill="#52606d">${escapeXml(labels.dateOf(spans[0]!.from))}</text>`,
    `<text x="${width - 10}" y="56" fill="#52606d" text-anchor="end">${escapeXml(labels.dateOf(new Date(end).toISOString()))}</text>`,
    '</svg>',
  );
  return parts.join('');
}
