import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { applications, events, municipalities, programmes } from '../db/schema.ts';
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

/**
 * The application lists read indexed columns of the projection only, through prepared statements
 * (DESIGN §4.8): no snapshot is parsed per row. Prepared once per database (the application page asks for them on every request).
 */
export const applicationQueries = perDatabase((db: Db) => {
  const where = sql`
    (${sql.placeholder('programmeId')} IS NULL OR ${applications.programmeId} = ${sql.placeholder('programmeId')})
    AND (${sql.placeholder('municipalityId')} IS NULL OR ${applications.municipalityId} = ${sql.placeholder('municipalityId')})
    AND (${sql.placeholder('projectType')} IS NULL OR ${applications.projectType} = ${sql.placeholder('projectType')})
    AND (${sql.placeholder('q')} IS NULL OR instr(${applications.search}, ${sql.placeholder('q')}) > 0)
    AND (${sql.placeholder('states')} IS NULL OR ${applications.state} IN (SELECT value FROM json_each(${sql.placeholder('states')})))`;
  const list = db
    .select({
      id: applications.id,
      title: applications.title,
      projectType: applications.projectType,
      settlement: applications.settlement,
      state: applications.state,
      version: applications.version,
      subsidyKopecks: applications.subsidyKopecks,
      totalKopecks: applications.totalKopecks,
      awardedKopecks: applications.awardedKopecks,
      updatedAt: applications.updatedAt,
      firstSubmittedAt: applications.firstSubmittedAt,
      registrationNo: applications.registrationNo,
      municipalityId: applications.municipalityId,
      municipalityName: municipalities.name,
      programmeId: applications.programmeId,
      programmeTitle: programmes.title,
      timeZone: programmes.timeZone,
    })
    .from(applications)
    .innerJoin(municipalities, sql`${municipalities.id} = ${applications.municipalityId}`)
    .innerJoin(programmes, sql`${programmes.id} = ${applications.programmeId}`)
    .where(where)
    .orderBy(sql`${applications.updatedAt} DESC, ${applications.id} DESC`)
    .limit(sql.placeholder('limit'))
    .offset(sql.placeholder('offset'))
    .prepare();
  const counts = db
    .select({ state: applications.state, count: sql<number>`count(*)` })
    .from(applications)
    .where(where)
    .groupBy(applications.state)
    .prepare();
  const history = db
    .select()
    .from(events)
    .where(sql`${events.streamId} = ${sql.placeholder('streamId')}`)
    .orderBy(sql`${events.seq}`)
    .prepare();

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

  return {
    list(actor: Actor, filter: ListFilter, states: readonly string[] | null = null): ListRow[] {
      return list.all({ ...params(actor, filter, states), limit: PAGE_SIZE, offset: (filter.page - 1) * PAGE_SIZE });
    },
    /** Counts per state under the same filters but the state itself, for the filter's tabs. */
    countsByState(actor: Actor, filter: ListFilter, states: readonly string[] | null = null): Record<string, number> {
      const rows = counts.all(params(actor, { ...filter, state: undefined }, states));
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
