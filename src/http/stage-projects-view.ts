import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../domain/roles.ts';
import { formatRoubles } from '../domain/money.ts';
import { applicationLabel } from '../workflows/application/registration.ts';
import { applicationOptions, loadApplication, maySeeMunicipality } from '../workflows/application/reads.ts';
import { eventFields } from './forms.ts';
import { fieldOptions, missingWords, summaryOf } from './implementation-view.ts';

/** The stages whose page lists the projects they hold, with what each still misses (issue 11, point 8). */
export const projectListStages: ReadonlySet<string> = new Set(['legal', 'procurement', 'works', 'monitoring']);

export const projectSortColumns = ['project', 'state', 'agreed', 'received', 'progress', 'missing'] as const;
type SortColumn = (typeof projectSortColumns)[number];

/** The sort the query asks for (`?sort=received&dir=desc`), or the list's own order (by number). */
export function projectSortOf(query: unknown): { sort: SortColumn; dir: 'asc' | 'desc' } {
  const q = (query ?? {}) as Record<string, unknown>;
  const sort = (projectSortColumns as readonly string[]).includes(String(q.sort)) ? (q.sort as SortColumn) : 'project';
  return { sort, dir: q.dir === 'desc' ? 'desc' : 'asc' };
}

export interface RowProblems {
  /** The application whose payment was refused, its fields' errors, what was typed. */
  id: number;
  problems: Record<string, string>;
  values: Record<string, string>;
}

/**
 * The projects a stage holds (the states of `holdsStates`), each with its agreed and received
 * money, its progress, what the next step still needs in words, and — for whoever may record a
 * contribution to it now — the fields of the compact payment form.
 */
export function stageProjects(app: FastifyInstance, request: FastifyRequest, actor: Actor, programmeId: number, stageNo: number, holdsStates: readonly string[], rowProblems: RowProblems | null) {
  const t = request.t;
  const lang = request.lang;
  // An applicant sees its own municipality's projects only, as everywhere else.
  const ids =
    holdsStates.length === 0
      ? []
      : app.db.$client
          .prepare<unknown[], { id: number; municipalityId: number }>(
            `SELECT id, municipality_id AS municipalityId FROM applications WHERE programme_id = ? AND state IN (${holdsStates.map(() => '?').join(', ')}) ORDER BY id`,
          )
          .all(programmeId, ...holdsStates)
          .filter((row) => maySeeMunicipality(actor, row.municipalityId));
  const paymentFields = eventFields['record-contribution']!.filter((f) => f.name !== 'reference');
  const rows = ids.map(({ id }) => {
    const loaded = loadApplication(app.engine, actor, id);
    const summary = summaryOf(loaded.row.state, loaded.context);
    const missing = missingWords(t, lang, summary);
    // Whoever may record a payment on it now (the coordinator, the project's municipality) gets the row's form.
    const canPay = applicationOptions(app.engine, actor, loaded.stream).actions.some((a) => a.type === 'record-contribution');
    const problems = rowProblems?.id === id ? rowProblems : null;
    return {
      id,
      label: applicationLabel(loaded.row),
      title: loaded.row.title || t('app.untitled'),
      state: loaded.row.state,
      version: loaded.row.version,
      agreed: summary.agreedTotal,
      received: summary.received.total,
      progress: summary.progressPercent,
      missing,
      payment: canPay
        ? { fields: paymentFields.map((f) => ({ ...f, choices: f.kind === 'select' ? fieldOptions(t, lang, f, summary, actor.role) : [] })), problems: problems?.problems ?? {}, values: problems?.values ?? {} }
        : null,
    };
  });
  const { sort, dir } = projectSortOf(request.query);
  const key = (row: (typeof rows)[number]): string | number =>
    sort === 'project' ? row.id : sort === 'state' ? t(`state.${row.state}`) : sort === 'agreed' ? (row.agreed ?? -1) : sort === 'received' ? row.received : sort === 'progress' ? row.progress : row.missing.length;
  rows.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), lang);
    return (dir === 'asc' ? order : -order) || a.id - b.id;
  });
  const base = `/programmes/${programmeId}/stages/${stageNo}`;
  const columns = projectSortColumns.map((column) => {
    const sorted = sort === column ? dir : null;
    const next = sorted === 'asc' ? 'desc' : 'asc';
    return {
      key: column,
      label: t(`impl.col.${column}`),
      numeric: column === 'agreed' || column === 'received' || column === 'progress',
      sorted,
      aria: sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none',
      href: `${base}?sort=${column}&dir=${next}#stage-projects`,
    };
  });
  return { rows, columns, sort, dir, money: (k: number) => `${formatRoubles(k, lang)} ₽`, anyPayment: rows.some((r) => r.payment) };
}
