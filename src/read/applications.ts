import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { events } from '../db/schema.ts';
import { projectTypes } from '../domain/application.ts';
import type { Actor } from '../domain/roles.ts';
import { applicationStates } from '../../machines/application.ts';
import { perDatabase, statement } from '../db/statements.ts';

const optionalId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().catch(undefined);

/** The list filters as they arrive in a query string; anything malformed is dropped, not a 500. */
export const listFilterSchema = z.object({
  programmeId: optionalId,
  municipalityId: optionalId,
  state: z.enum(applicationStates as [string, ...string[]]).optional().catch(undefined),
  projectType: z.enum(projectTypes).optional().catch(undefined),
  q: z.string().trim().max(200).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(10_000).default(1).catch(1),
  /** A keyset page (issue 18.3): the applications after (older than) or before (newer than) this one. */
  after: optionalId,
  before: optionalId,
});
export type ListFilter = z.infer<typeof listFilterSchema>;

export interface ListRow {
  id: number;
  title: string;
  projectType: string | null;
  settlement: string | null;
  state: string;
  version: number;
  subsidyKopecks: number;
  totalKopecks: number;
  awardedKopecks: number | null;
  updatedAt: string;
  firstSubmittedAt: string | null;
  registrationNo: string | null;
  municipalityId: number;
  municipalityName: string;
  programmeId: number;
  programmeTitle: string;
  timeZone: string;
}

export const PAGE_SIZE = 50;

/** Which filters a statement of the list has as equalities on an index: one text each, prepared once. */
interface ListShape {
  programme: boolean;
  municipality: boolean;
  /** A keyset page after (older than) or before (newer than) one application, or the first page. */
  seek: 'none' | 'after' | 'before';
}

const LIST_COLUMNS = `a.id, a.title, a.project_type AS projectType, a.settlement, a.state, a.version, a.subsidy_kopecks AS subsidyKopecks,
  a.total_kopecks AS totalKopecks, a.awarded_kopecks AS awardedKopecks, a.updated_at AS updatedAt, a.first_submitted_at AS firstSubmittedAt,
  a.registration_no AS registrationNo, a.municipality_id AS municipalityId, m.name AS municipalityName, a.programme_id AS programmeId,
  p.title AS programmeTitle, p.time_zone AS timeZone`;

/**
 * The filters as SQL: the programme and the municipality as equalities (each statement has the ones
 * given, so that an index on them serves it), the rest as filters on the rows an index gives — the
 * unary `+` keeps the planner from reading by the state or the type and sorting afterwards.
 */
function listWhere(shape: Pick<ListShape, 'programme' | 'municipality'>): string {
  return [
    ...(shape.programme ? ['a.programme_id = @programmeId'] : []),
    ...(shape.municipality ? ['a.municipality_id = @municipalityId'] : []),
    '(@projectType IS NULL OR +a.project_type = @projectType)',
    '(@q IS NULL OR instr(a.search, @q) > 0)',
    '(@states IS NULL OR +a.state IN (SELECT value FROM json_each(@states)))',
  ].join(' AND ');
}

/**
 * One statement of the applications list, the latest changed first: a keyset page on
 * (updated_at, id), read along an index ending in updated_at (migrations/0020), so that the first
 * page and a page a million rows down cost the same. The applications are the outer loop
 * (CROSS JOIN): the municipality and the programme are looked up by their key for each row read.
 */
export function applicationListText(shape: ListShape): string {
  const backwards = shape.seek === 'before';
  const order = backwards ? 'ASC' : 'DESC';
  const seek = shape.seek === 'none' ? '' : ` AND (a.updated_at, a.id) ${backwards ? '>' : '<'} (@key, @id)`;
  return `SELECT ${LIST_COLUMNS}
    FROM applications a CROSS JOIN municipalities m ON m.id = a.municipality_id CROSS JOIN programmes p ON p.id = a.programme_id
    WHERE ${listWhere(shape)}${seek}
    ORDER BY a.updated_at ${order}, a.id ${order} LIMIT @limit OFFSET @offset`;
}

/**
 * The counts per state for the tabs. Under the programme, municipality and state filters alone they
 * are read from application_counts, which the triggers of migrations/0015 keep in step with every
 * write: no pass over the applications. A type or a search word narrows them to rows the counter
 * does not split by: then they are counted over the rows the programme's, municipality's or type's
 * index gives (a search word alone reads every application: no index finds a substring).
 */
export function applicationCountsText(shape: Pick<ListShape, 'programme' | 'municipality'> & { counter: boolean; type: boolean }): string {
  if (shape.counter) {
    const where = [
      ...(shape.programme ? ['programme_id = @programmeId'] : []),
      ...(shape.municipality ? ['municipality_id = @municipalityId'] : []),
      '(@states IS NULL OR state IN (SELECT value FROM json_each(@states)))',
      'count > 0',
    ].join(' AND ');
    return `SELECT state, sum(count) AS count FROM application_counts WHERE ${where} GROUP BY state`;
  }
  const where = [
    ...(shape.programme ? ['a.programme_id = @programmeId'] : []),
    ...(shape.municipality ? ['a.municipality_id = @municipalityId'] : []),
    ...(shape.type ? ['a.project_type = @projectType'] : []),
    '(@q IS NULL OR instr(a.search, @q) > 0)',
    '(@states IS NULL OR a.state IN (SELECT value FROM json_each(@states)))',
  ].join(' AND ');
  return `SELECT a.state, count(*) AS count FROM applications a WHERE ${where} GROUP BY a.state`;
}

/** Every statement the list and its tabs run, with parameters like a request's: what test/int/query-plans checks. */
export function applicationListQueries(): { name: string; sql: string; params: Record<string, unknown>; fullScan?: string }[] {
  const params = { programmeId: 2, municipalityId: 3, projectType: 'roads', q: 'клуб', states: '["submitted"]', key: '2026-01-01T00:00:00.000Z', id: 10, limit: PAGE_SIZE + 1, offset: 0 };
  const out: { name: string; sql: string; params: Record<string, unknown>; fullScan?: string }[] = [];
  for (const programme of [false, true]) {
    for (const municipality of [false, true]) {
      for (const seek of ['none', 'after', 'before'] as const) {
        out.push({ name: `applications list programme=${programme} municipality=${municipality} seek=${seek}`, sql: applicationListText({ programme, municipality, seek }), params });
      }
      out.push({ name: `applications counts (counter) programme=${programme} municipality=${municipality}`, sql: applicationCountsText({ programme, municipality, counter: true, type: false }), params });
      for (const type of [false, true]) {
        const narrowed = programme || municipality || type;
        out.push({
          name: `applications counts (rows) programme=${programme} municipality=${municipality} type=${type}`,
          sql: applicationCountsText({ programme, municipality, counter: false, type }),
          params,
          ...(narrowed ? {} : { fullScan: 'a search word over every programme: a substring is found by reading each search text' }),
        });
      }
    }
  }
  return out;
}

/** A page of the list: its rows, and the ids to seek after for the next page and before for the previous one (absent at an end). */
export interface ApplicationPage {
  rows: ListRow[];
  nextAfter: number | null;
  prevBefore: number | null;
}

/**
 * The application lists read indexed columns of the projection only, through prepared statements
 * (DESIGN §4.8): no snapshot is parsed per row. Prepared once per database (the application page asks for them on every request).
 */
export const applicationQueries = perDatabase((db: Db) => {
  const history = db
    .select()
    .from(events)
    .where(sql`${events.streamId} = ${sql.placeholder('streamId')}`)
    .orderBy(sql`${events.seq}`)
    .prepare();
  const keyOf = (id: number) => statement<[number], { updatedAt: string }>(db, 'SELECT updated_at AS updatedAt FROM applications WHERE id = ?').get(id);

  function params(actor: Actor, filter: ListFilter, states: readonly string[] | null) {
    // An applicant's municipality is forced, whatever the query string says.
    const municipalityId = actor.role === 'applicant' ? actor.municipalityId : (filter.municipalityId ?? null);
    const chosen = filter.state ? (states && !states.includes(filter.state) ? [] : [filter.state]) : states;
    return {
      programmeId: filter.programmeId ?? null,
      municipalityId,
      projectType: filter.projectType ?? null,
      q: filter.q ? filter.q.toLocaleLowerCase('ru') : null,
      states: chosen ? JSON.stringify(chosen) : null,
    };
  }

  function read(actor: Actor, filter: ListFilter, states: readonly string[] | null, seek: ListShape['seek'], fromId: number | undefined, limit: number, offset: number): ListRow[] {
    const given = params(actor, filter, states);
    let key: string | undefined;
    if (seek !== 'none') {
      key = keyOf(fromId!)?.updatedAt;
      // A cursor that names no application starts from the beginning.
      if (key === undefined) return read(actor, filter, states, 'none', undefined, limit, offset);
    }
    const text = applicationListText({ programme: given.programmeId !== null, municipality: given.municipalityId !== null, seek });
    const rows = statement<[Record<string, unknown>], ListRow>(db, text).all({
      ...given,
      ...(given.programmeId === null ? { programmeId: undefined } : {}),
      ...(given.municipalityId === null ? { municipalityId: undefined } : {}),
      ...(seek === 'none' ? {} : { key, id: fromId }),
      limit,
      offset,
    });
    return seek === 'before' ? rows.reverse() : rows;
  }

  return {
    /** The `page`th page of 50 (the API's form, by offset), or the one after or before an application (a keyset seek, the pages' form). */
    list(actor: Actor, filter: ListFilter, states: readonly string[] | null = null): ListRow[] {
      const seek = filter.after ? 'after' : filter.before ? 'before' : 'none';
      return read(actor, filter, states, seek, filter.after ?? filter.before, PAGE_SIZE, seek === 'none' ? (filter.page - 1) * PAGE_SIZE : 0);
    },
    /** One page of the list and its neighbours' cursors: one row more than a page says whether another follows in the direction read. */
    page(actor: Actor, filter: ListFilter, states: readonly string[] | null = null): ApplicationPage {
      const seek = filter.after ? 'after' : filter.before ? 'before' : 'none';
      const offset = seek === 'none' ? (filter.page - 1) * PAGE_SIZE : 0;
      const got = read(actor, filter, states, seek, filter.after ?? filter.before, PAGE_SIZE + 1, offset);
      const more = got.length > PAGE_SIZE;
      const rows = seek === 'before' ? got.slice(more ? 1 : 0) : got.slice(0, PAGE_SIZE);
      const hasNext = seek === 'before' ? rows.length > 0 : more;
      const hasPrev = seek === 'before' ? more : seek === 'after' ? rows.length > 0 : offset > 0;
      return { rows, nextAfter: hasNext ? (rows.at(-1)?.id ?? null) : null, prevBefore: hasPrev ? (rows[0]?.id ?? null) : null };
    },
    /** Counts per state under the same filters but the state itself, for the filter's tabs. */
    countsByState(actor: Actor, filter: ListFilter, states: readonly string[] | null = null): Record<string, number> {
      const given = params(actor, { ...filter, state: undefined }, states);
      const shape = { programme: given.programmeId !== null, municipality: given.municipalityId !== null };
      const counter = given.projectType === null && given.q === null;
      const text = applicationCountsText({ ...shape, counter, type: !counter && given.projectType !== null });
      const bound: Record<string, unknown> = { states: given.states };
      if (shape.programme) bound.programmeId = given.programmeId;
      if (shape.municipality) bound.municipalityId = given.municipalityId;
      if (!counter) {
        bound.q = given.q;
        if (given.projectType !== null) bound.projectType = given.projectType;
      }
      const rows = statement<[Record<string, unknown>], { state: string; count: number }>(db, text).all(bound);
      return Object.fromEntries(rows.map((r) => [r.state, r.count]));
    },
    history(streamId: string) {
      return history.all({ streamId });
    },
  };
});

export type ApplicationQueries = ReturnType<typeof applicationQueries>;

export function listMunicipalities(db: Db): { id: number; name: string; kind: string; population: number }[] {
  return statement<[], { id: number; name: string; kind: string; population: number }>(db, 'SELECT id, name, kind, population FROM municipalities ORDER BY name').all();
}

/** A municipality's name, or an empty string for an unknown id. */
export function municipalityName(db: Db, id: number): string {
  return statement<[number], { name: string }>(db, 'SELECT name FROM municipalities WHERE id = ?').get(id)?.name ?? '';
}
