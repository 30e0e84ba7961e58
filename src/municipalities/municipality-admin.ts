import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { municipalities } from '../db/schema.ts';
import { municipalityNameKey, readMunicipalityInput, type MunicipalityInput, type MunicipalityKind } from '../domain/municipality.ts';
import { NotFoundError, ValidationError } from '../engine/errors.ts';
import { renameInReviewQueue } from '../workflows/application/review-queue.ts';

/**
 * The municipalities of a real installation, kept by admins (on /admin/municipalities or with
 * `npm run municipalities`): create and change; never delete, for users, applications and their
 * history refer to them. Names are unique however they are capitalised or spaced.
 */

export interface MunicipalityRow {
  id: number;
  name: string;
  kind: MunicipalityKind;
  population: number;
  /** Users of the municipality, active or not. */
  users: number;
  applications: number;
}

function rowsQuery(db: Db, where: ReturnType<typeof sql>): MunicipalityRow[] {
  return db
    .select({
      id: municipalities.id,
      name: municipalities.name,
      kind: sql<MunicipalityKind>`${municipalities.kind}`,
      population: municipalities.population,
      // Spelled out with aliases: drizzle writes columns unqualified, and a bare "id" in the subquery would be the user's.
      users: sql<number>`(SELECT count(*) FROM users AS u WHERE u.municipality_id = municipalities.id)`,
      applications: sql<number>`(SELECT count(*) FROM applications AS a WHERE a.municipality_id = municipalities.id)`,
    })
    .from(municipalities)
    .where(where)
    .all();
}

/** Every municipality with how many users and applications it has, in alphabetical order. */
export function listMunicipalityRows(db: Db): MunicipalityRow[] {
  // Sorted here: SQLite orders by bytes, which puts «Ё» and capitals in the wrong places.
  return rowsQuery(db, sql`1 = 1`).sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

export function findMunicipality(db: Db, id: number): MunicipalityRow {
  const row = rowsQuery(db, sql`${municipalities.id} = ${id}`)[0];
  if (!row) throw new NotFoundError(`municipality ${id} not found`);
  return row;
}

/** A municipality by its id or its name (however capitalised), for the command line. */
export function municipalityByIdOrName(db: Db, value: string): MunicipalityRow {
  if (/^\d{1,9}$/.test(value)) return findMunicipality(db, Number(value));
  const key = municipalityNameKey(value);
  const found = listMunicipalityRows(db).find((row) => municipalityNameKey(row.name) === key);
  if (!found) throw new NotFoundError(`no municipality named “${value}”`);
  return found;
}

export interface MunicipalityFields {
  name?: unknown;
  kind?: unknown;
  population?: unknown;
}

/**
 * The input checked whole, the name against the other municipalities too, so that every problem
 * is reported at once. Runs inside the writing transaction: no other writer can take the name
 * between the check and the write.
 */
function checked(db: Db, raw: MunicipalityFields, exceptId: number | null): MunicipalityInput {
  const { input, problems } = readMunicipalityInput(raw);
  const key = typeof raw.name === 'string' ? municipalityNameKey(raw.name) : '';
  const taken = key
    ? db
        .select({ id: municipalities.id, name: municipalities.name })
        .from(municipalities)
        .all()
        .find((row) => row.id !== exceptId && municipalityNameKey(row.name) === key)
    : undefined;
  if (taken && !problems.some((p) => p.field === 'name')) problems.unshift({ field: 'name', code: 'name-taken', params: { name: taken.name } });
  if (!input || problems.length > 0) throw new ValidationError('the municipality is invalid', problems);
  return input;
}

/** Creates a municipality; every problem is reported at once, tied to its field. */
export function createMunicipality(db: Db, raw: MunicipalityFields): MunicipalityRow {
  const id = db.transaction(
    () => {
      const input = checked(db, raw, null);
      return db.insert(municipalities).values(input).returning({ id: municipalities.id }).get().id;
    },
    { behavior: 'immediate' },
  );
  return findMunicipality(db, id);
}

/** Changes a municipality's name, kind and population. Its users and applications stay with it. */
export function changeMunicipality(db: Db, id: number, raw: MunicipalityFields): MunicipalityRow {
  findMunicipality(db, id);
  db.transaction(
    () => {
      const input = checked(db, raw, id);
      db.update(municipalities).set(input).where(sql`${municipalities.id} = ${id}`).run();
      // The review queue sorts by the name it keeps (issue 16).
      renameInReviewQueue(db, { municipalityId: id, name: input.name });
    },
    { behavior: 'immediate' },
  );
  return findMunicipality(db, id);
}
