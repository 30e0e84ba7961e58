import type { Db } from '../../db/client.ts';
import type { programmes } from '../../db/schema.ts';
import { perDatabase } from '../../db/statements.ts';

export type ProgrammeRow = typeof programmes.$inferSelect;

const PROGRAMME_COLUMNS =
  'id, title, year, region, time_zone AS timeZone, fund_kopecks AS fundKopecks, cap_kopecks AS capKopecks, min_local_share_bp AS minLocalShareBp, min_residents_share_bp AS minResidentsShareBp, code, savings_rule AS savingsRule, created_at AS createdAt';

const programmeReads = perDatabase((db: Db) => ({
  all: db.$client.prepare<[], ProgrammeRow>(`SELECT ${PROGRAMME_COLUMNS} FROM programmes ORDER BY year DESC, id DESC`),
  byId: db.$client.prepare<[number], ProgrammeRow>(`SELECT ${PROGRAMME_COLUMNS} FROM programmes WHERE id = ?`),
}));

/** Every programme, the newest year first. */
export function listProgrammes(db: Db): ProgrammeRow[] {
  return programmeReads(db).all.all();
}

export function findProgramme(db: Db, id: number): ProgrammeRow | undefined {
  return programmeReads(db).byId.get(id);
}
