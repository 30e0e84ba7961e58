import { localeOf, numberFormat } from '../domain/intl.ts';
import type { AnyStateMachine } from 'xstate';
import type { Engine, EventRow, StreamRow } from '../engine/engine.ts';
import { loadStreamEvents, replayStream, type LedgerProblem, type ReplayResult } from '../engine/replay.ts';
import { formFields } from '../domain/application.ts';
import { formatRoubles } from '../domain/money.ts';
import { formatDateTime, formatDay } from '../domain/time.ts';
import type { Actor } from '../domain/roles.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import { fieldKinds } from '../domain/application.ts';
import { contextChanges, type FieldChange } from './diff.ts';
import { documentHistoryDetails, formatBytes, kindLabel } from '../http/documents-view.ts';
import { renderStatechart } from './statechart.ts';

/**
 * What the auditor's pages show, computed in TypeScript so that the templates only loop and
 * branch: history rows, a replayed step with its field-by-field changes, the verdict in words.
 */

/** `form.costs.subsidy` and the other context paths, in the order the form shows them. */
const formOrder = formFields.map((f) => `form.${f}`);
const contextOrder = [...formOrder, 'remarks', 'documents', 'assigneeId', 'reason', 'firstSubmittedAt', 'submissions', 'scores', 'awardedKopecks', 'agreementNo', 'agreement', 'contributions', 'contract', 'milestones', 'progress', 'progressPercent', 'evidence', 'visits', 'spending', 'worksCompletedAt', 'monitoring'];
/** Context that never changes after creation, or is bookkeeping: not a "field" to an auditor. */
const hiddenContext = new Set(['programmeId', 'municipalityId']);

/** A translation, or null when the catalogue has no such key. */
function known(t: Translate, key: string): string | null {
  const text = t(key);
  return text === key ? null : text;
}

export function labelOf(t: Translate, path: string): string {
  if (path.startsWith('form.')) return known(t, `field.${path.slice(5)}`) ?? path.slice(5);
  return known(t, `audit.context.${path}`) ?? path;
}

/** A context value as a person reads it: money in roubles, times in the programme's zone, lists as lines. */
export function displayValue(t: Translate, lang: Lang, timeZone: string, path: string, value: unknown, names?: (userId: number) => string | null): string[] {
  if (value === undefined || value === null || value === '') return [];
  const field = path.startsWith('form.') ? path.slice(5) : path;
  const money = (k: number) => `${formatRoubles(k, lang)} ₽`;
  if (fieldKinds[field] === 'money' || (field.endsWith('Kopecks') && typeof value === 'number')) return typeof value === 'number' ? [money(value)] : [String(value)];
  if (field === 'projectType' && typeof value === 'string') return [known(t, `projectType.${value}`) ?? value];
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return [formatDateTime(value, timeZone, lang)];
  if (path === 'remarks' && Array.isArray(value)) {
    return (value as { field?: string; text?: string }[]).map((r) => (r.field && r.field !== 'general' ? `${known(t, `field.${r.field}`) ?? r.field}: ${r.text ?? ''}` : (r.text ?? '')));
  }
  if (path === 'scores' && typeof value === 'object') {
    return Object.entries(value as Record<string, { significance?: number; comment?: string }>).map(
      ([id, s]) => `${t('audit.scoreBy', { id, score: s.significance ?? '—' })}${s.comment ? ` (${s.comment})` : ''}`,
    );
  }
  // After the award (issue 11): the agreement, the ledger, the contract, the works, the evidence, the visits, the report, in words.
  const day = (d: string | null | undefined) => (d ? formatDay(d, lang) : '—');
  const amountsText = (a: Record<string, number> | null | undefined) =>
    a ? Object.entries(a).map(([key, k]) => `${known(t, `source.${key}`) ?? key} ${money(k)}`).join(', ') : '';
  if (path === 'agreement' && typeof value === 'object') {
    const a = value as { agreementNo?: string; signedOn?: string | null; amounts?: Record<string, number> | null };
    return [`№ ${a.agreementNo ?? ''}${a.signedOn ? ` ${t('audit.of')} ${day(a.signedOn)}` : ''}`, ...(a.amounts ? [amountsText(a.amounts)] : [])];
  }
  if (path === 'contributions' && Array.isArray(value)) {
    return (value as { seq: number; source: string; amountKopecks: number; receivedOn: string; payer?: string | null; reference?: string | null; cancelled?: { reason: string } | null }[]).map(
      (c) =>
        `№ ${c.seq}: ${day(c.receivedOn)}, ${known(t, `source.${c.source}`) ?? c.source}, ${money(c.amountKopecks)}${c.payer ? `, ${c.payer}` : ''}${c.reference ? `, ${c.reference}` : ''}${c.cancelled ? ` — ${t('impl.cancelledBecause', { reason: c.cancelled.reason })}` : ''}`,
    );
  }
  if (path === 'contract' && typeof value === 'object') {
    const c = value as { contractNo?: string | null; signedOn?: string | null; contractor?: string; contractorInn?: string | null; priceKopecks?: number; noticeNo?: string | null; savingsRule?: string | null };
    const head = c.contractNo ? `№ ${c.contractNo}${c.signedOn ? ` ${t('audit.of')} ${day(c.signedOn)}` : ''}, ` : '';
    const inn = c.contractorInn ? ` (${t('field.contractorInn')} ${c.contractorInn})` : '';
    const notice = c.noticeNo ? `, ${t('field.noticeNo')} ${c.noticeNo}` : '';
    const rule = c.savingsRule ? `; ${t('impl.savings')}: ${t(`savingsRule.${c.savingsRule}`)}` : '';
    return [`${head}${c.contractor ?? ''}${inn}${typeof c.priceKopecks === 'number' ? `, ${money(c.priceKopecks)}` : ''}${notice}${rule}`];
  }
  if (path === 'milestones' && Array.isArray(value)) {
    return (value as { kind: string; on: string; note?: string | null }[]).map((m) => `${day(m.on)}: ${known(t, `milestone.${m.kind}`) ?? m.kind}${m.note ? ` — ${m.note}` : ''}`);
  }
  if (path === 'progress' && Array.isArray(value)) {
    return (value as { percent: number; note?: string | null; at: string }[]).map((p) => `${formatDateTime(p.at, timeZone, lang)}: ${p.percent} %${p.note ? ` — ${p.note}` : ''}`);
  }
  if (path === 'evidence' && Array.isArray(value)) {
    return (value as { kind: string; caption?: string | null; name: string; size: number }[]).map(
      (e) => `${known(t, `evidence.${e.kind}`) ?? e.kind}: ${e.name} (${formatBytes(e.size, t, lang)})${e.caption ? ` — ${e.caption}` : ''}`,
    );
  }
  if (path === 'visits' && Array.isArray(value)) {
    return (value as { visitedOn: string; inspector?: string | null; verdict: string; finding: string; resolution?: { note: string } | null }[]).map(
      (v) => `${day(v.visitedOn)}${v.inspector ? `, ${v.inspector}` : ''}: ${known(t, `verdict.${v.verdict}`) ?? v.verdict} — ${v.finding}${v.resolution ? `; ${t('impl.issueResolved')}: ${v.resolution.note}` : ''}`,
    );
  }
  if (path === 'spending' && typeof value === 'object') {
    return [amountsText((value as { actual?: Record<string, number> }).actual)];
  }
  if (path === 'monitoring' && Array.isArray(value)) {
    return (value as { finding?: string; at?: string }[]).map((m) => `${m.at ? `${formatDateTime(m.at, timeZone, lang)}: ` : ''}${m.finding ?? ''}`);
  }
  // The documents by kind, in words: the file, its size and the reviewer's verdict — never the raw record (issue 16).
  if (path === 'documents' && typeof value === 'object') {
    return Object.entries(value as Record<string, { file?: { name?: string; size?: number } | null; verdict?: string; remark?: string | null }>).map(([kind, entry]) => {
      const file = entry.file?.name ? t('audit.documentFile', { name: entry.file.name, size: formatBytes(entry.file.size ?? 0, t, lang) }) : t('audit.documentNoFile');
      const verdict = known(t, `documents.status.${entry.file ? (entry.verdict ?? 'pending') : entry.verdict === 'remark' ? 'remark' : 'missing'}`) ?? '';
      return `${kindLabel(t, kind)}: ${file}, ${verdict.toLocaleLowerCase(lang)}${entry.remark ? ` (${entry.remark})` : ''}`;
    });
  }
  if (path === 'assigneeId' && typeof value === 'number') return [names?.(value) ?? t('audit.userNo', { id: value })];
  if (typeof value === 'number') return [numberFormat(localeOf(lang)).format(value)];
  if (typeof value === 'string' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  return [JSON.stringify(value)];
}

export interface HistoryRowView {
  seq: number;
  at: string;
  actorName: string;
  actorRole: string;
  type: string;
  from: string | null;
  to: string;
  summary: string[];
  hash: string;
}

/** One line per payload entry, in words: the changed fields of an update with their new values. */
export function payloadSummary(t: Translate, lang: Lang, timeZone: string, row: Pick<EventRow, 'type' | 'payload'>): string[] {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(row.payload) as Record<string, unknown>;
  } catch {
    return [row.payload];
  }
  const form = row.type === 'create' ? (payload.form as Record<string, unknown> | undefined) : row.type === 'update' ? payload : undefined;
  if (form) {
    return contextChanges({}, { form }, formOrder).map((c) => `${labelOf(t, c.path)}: ${displayValue(t, lang, timeZone, c.path, c.after).join('; ')}`);
  }
  // A document event in words: which document, which file, which verdict — not kind, mediaType and sha256 (issue 16).
  if (row.type === 'attach-document' || row.type === 'review-document') return documentHistoryDetails(t, lang, row.type, payload);
  const lines: string[] = [];
  // The decision's reason is a code with the rank (older events carry it as a comment in words).
  if (typeof payload.why === 'string') {
    const { why, rank, count, ...rest } = payload;
    lines.push(t(`commission.notAward.${why}`, { rank: Number(rank ?? 0), count: Number(count ?? 0) }));
    payload = rest;
  }
  // After the award (issue 11): a contribution's amount is not the subsidy's; codes and days in words.
  const implementationEvent = row.type === 'record-contribution' || row.type === 'report-spending' || row.type === 'sign-agreement';
  const words: Record<string, string> = { source: 'source.', verdict: 'verdict.', kind: row.type === 'record-milestone' ? 'milestone.' : row.type === 'attach-evidence' ? 'evidence.' : '' };
  for (const [key, value] of Object.entries(payload)) {
    const label = (implementationEvent && key === 'amountKopecks' ? known(t, 'impl.amount') : null) ?? known(t, `field.${key}`) ?? key;
    const path = key === 'remarks' ? 'remarks' : key;
    if (typeof value === 'string' && words[key]) lines.push(`${label}: ${known(t, `${words[key]}${value}`) ?? value}`);
    else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) lines.push(`${label}: ${formatDay(value, lang)}`);
    else if ((key === 'amounts' || key === 'actual') && value && typeof value === 'object')
      lines.push(`${label}: ${Object.entries(value as Record<string, number>).map(([k, v]) => `${known(t, `source.${k}`) ?? k} ${formatRoubles(v, lang)} ₽`).join(', ')}`);
    else lines.push(`${label}: ${displayValue(t, lang, timeZone, path, value).join('; ')}`);
  }
  return lines;
}

export function historyRows(t: Translate, lang: Lang, timeZone: string, rows: EventRow[]): HistoryRowView[] {
  return rows.map((row) => {
    let actor: Partial<Actor> = {};
    try {
      actor = JSON.parse(row.actor) as Actor;
    } catch {
      // shown as unknown; verify names the damage
    }
    return {
      seq: row.seq,
      at: row.at,
      actorName: actor.name ?? '?',
      actorRole: actor.role ?? '',
      type: row.type,
      from: row.fromState,
      to: row.toState,
      summary: payloadSummary(t, lang, timeZone, row),
      hash: row.hash,
    };
  });
}

export interface ProblemView {
  stream: string;
  seq: number | null;
  kind: string;
  where: string;
  what: string;
  detail: string;
}

export function problemViews(t: Translate, problems: LedgerProblem[]): ProblemView[] {
  return problems.map((p) => ({
    stream: p.stream,
    seq: p.seq,
    kind: p.kind,
    where: p.seq === null ? t('audit.problemWhole') : t('audit.problemAt', { seq: p.seq }),
    what: t(`audit.kind.${p.kind}`),
    detail: p.message,
  }));
}

/** Labels for a statechart: the catalogue's state and event names, a child without its parent's prefix. */
export function chartLabels(t: Translate) {
  const stateLabel = (id: string): string => {
    const label = known(t, `audit.chartState.${id}`) ?? known(t, `state.${id}`) ?? id.split('.').at(-1) ?? id;
    const parent = id.includes('.') ? id.slice(0, id.lastIndexOf('.')) : null;
    if (parent) {
      const parentLabel = stateLabel(parent);
      if (label.startsWith(`${parentLabel}: `)) {
        const rest = label.slice(parentLabel.length + 2);
        return rest.charAt(0).toLocaleUpperCase() + rest.slice(1);
      }
    }
    return label;
  };
  return { stateLabel, eventLabel: (type: string) => known(t, `event.${type}`) ?? type };
}

/** The statechart of a stream's machine with its state highlighted, as SVG markup. */
export function chartSvg(t: Translate, machine: AnyStateMachine, options: { active: string | null; taken?: { from: string | null; to: string; event: string } | null; description: string; idPrefix: string }): string {
  return renderStatechart(machine, { ...chartLabels(t), title: t('audit.chartTitle'), ...options });
}

export interface ChangeView {
  path: string;
  label: string;
  before: string[];
  after: string[];
}

export interface FormFieldView {
  field: string;
  label: string;
  value: string[];
  changed: boolean;
}

export interface StepView {
  seq: number;
  total: number;
  type: string;
  at: string;
  actorName: string;
  actorRole: string;
  from: string | null;
  storedState: string;
  replayedState: string | null;
  matches: boolean;
  machineVersion: number;
  created: boolean;
  changes: ChangeView[];
  form: FormFieldView[];
  payload: string[];
  svg: string;
}

/** Replays a stream once: the result feeds the stepper, the verdict and the history table alike. */
export function replayOf(engine: Engine, stream: StreamRow): { rows: EventRow[]; result: ReplayResult } {
  const rows = loadStreamEvents(engine.db, stream.id);
  return { rows, result: replayStream(engine.registry, stream, rows) };
}

/**
 * Step `seq` of a replay: the state, the form as it was, and what changed since the step before.
 * The machine the picture shows is the version recorded on the event.
 */
export function stepView(t: Translate, lang: Lang, timeZone: string, engine: Engine, rows: EventRow[], result: ReplayResult, seq: number): StepView {
  const index = result.steps.findIndex((s) => s.seq === seq);
  const step = result.steps[index]!;
  const row = rows.find((r) => r.seq === seq)!;
  const before = index > 0 ? result.steps[index - 1]!.context : null;
  const after = step.context;
  const changes: FieldChange[] = after === null ? [] : contextChanges(before ?? {}, after, contextOrder).filter((c) => !hiddenContext.has(c.path));
  const changed = new Set(changes.map((c) => c.path));
  const form = ((after as { form?: Record<string, unknown> } | null)?.form ?? {}) as Record<string, unknown>;
  const valueAt = (field: string): unknown => {
    const [head, tail] = field.split('.');
    const value = form[head!];
    return tail === undefined ? value : value && typeof value === 'object' ? (value as Record<string, unknown>)[tail] : undefined;
  };
  let actor: Partial<Actor> = {};
  try {
    actor = JSON.parse(row.actor) as Actor;
  } catch {
    // unknown actor: verify names the damage
  }
  const entry = engine.registry.get(row.machineId, row.machineVersion);
  const shown = step.replayedState ?? step.to;
  const names = (id: number) => engine.db.$client.prepare<[number], { name: string }>('SELECT name FROM users WHERE id = ?').get(id)?.name ?? null;
  return {
    seq,
    total: result.steps.length,
    type: step.type,
    at: step.at,
    actorName: actor.name ?? '?',
    actorRole: actor.role ?? '',
    from: step.from,
    storedState: step.to,
    replayedState: step.replayedState,
    matches: step.matches,
    machineVersion: step.machineVersion,
    created: step.type === 'create',
    changes: changes
      .map((c) => ({
        path: c.path,
        label: labelOf(t, c.path),
        before: displayValue(t, lang, timeZone, c.path, c.before, names),
        after: displayValue(t, lang, timeZone, c.path, c.after, names),
      }))
      // An empty list becoming another empty list (a new context's `[]`) is no change to a reader.
      .filter((c) => c.before.length > 0 || c.after.length > 0),
    form: formFields.map((field) => ({ field, label: labelOf(t, `form.${field}`), value: displayValue(t, lang, timeZone, `form.${field}`, valueAt(field)), changed: changed.has(`form.${field}`) })),
    payload: payloadSummary(t, lang, timeZone, row),
    svg: entry
      ? chartSvg(t, entry.machine, {
          active: shown,
          taken: { from: step.from, to: step.to, event: step.type },
          description: t('audit.chartReplayed', { seq, state: chartLabels(t).stateLabel(shown) }),
          idPrefix: `sc-step-${seq}`,
        })
      : '',
  };
}

/** The statechart of a stream as it stands now, its current state highlighted (the application page's card). */
export function currentStatechart(t: Translate, engine: Engine, stream: StreamRow): string {
  const entry = engine.registry.get(stream.machineId, stream.machineVersion);
  if (!entry) return '';
  // The same machine, state and language draw the same picture: drawn once (issue 18), for the few states a machine has.
  let drawn = currentCharts.get(t);
  if (!drawn) currentCharts.set(t, (drawn = new Map()));
  const key = `${entry.id}@${entry.version}:${stream.state}`;
  let svg = drawn.get(key);
  if (svg === undefined) {
    svg = chartSvg(t, entry.machine, { active: stream.state, description: t('audit.chartCurrent', { state: chartLabels(t).stateLabel(stream.state) }), idPrefix: 'sc-current' });
    drawn.set(key, svg);
  }
  return svg;
}

const currentCharts = new WeakMap<Translate, Map<string, string>>();
