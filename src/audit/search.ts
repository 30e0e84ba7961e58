import type { Db } from '../db/client.ts';
import type { Actor } from '../domain/roles.ts';

export interface AuditSearchRow {
  id: number;
  /** Its registration number (issue 13), if it was ever submitted. */
  registrationNo: string | null;
  title: string;
  state: string;
  version: number;
  updatedAt: string;
  municipalityName: string;
  programmeTitle: string;
  timeZone: string;
}

/** The search's statement (what test/int/query-plans checks). */
export const AUDIT_SEARCH_SQL = `
    SELECT a.id, a.registration_no AS registrationNo, a.title, a.state, a.version, a.updated_at AS updatedAt,
           m.name AS municipalityName, p.title AS programmeTitle, p.time_zone AS timeZone
    FROM applications a
    JOIN municipalities m ON m.id = a.municipality_id
    JOIN programmes p ON p.id = a.programme_id
    WHERE (@onlyMunicipality IS NULL OR a.municipality_id = @onlyMunicipality)
      AND (@q IS NULL OR a.id = @id OR instr(a.search, @q) > 0
           OR a.municipality_id IN (SELECT value FROM json_each(@municipalities)))
    ORDER BY a.id
    LIMIT 200`;

/**
 * The auditor's search: one box that finds an application by its id (`12`, `№ 12`) or registration
 * number (`ИБ-2026-0042`, through the search text), a word
 * of its title or settlement, or a part of its municipality's name. Municipality names are
 * matched in TypeScript (SQLite folds only ASCII case, and the names are Cyrillic); the query is
 * prepared once and reads indexed projection columns only.
 */
export function auditSearch(db: Db) {
  const query = db.$client.prepare<Record<string, unknown>, AuditSearchRow>(AUDIT_SEARCH_SQL);
  const municipalities = db.$client.prepare<[], { id: number; name: string }>('SELECT id, name FROM municipalities');

  return (actor: Actor, text: string | undefined): AuditSearchRow[] => {
    const q = text?.trim().toLocaleLowerCase('ru').slice(0, 200) || null;
    const number = q ? /^(?:№|n|no\.?)?\s*(\d{1,12})$/.exec(q) : null;
    const matching = q ? municipalities.all().filter((m) => m.name.toLocaleLowerCase('ru').includes(q)).map((m) => m.id) : [];
    return query.all({
      onlyMunicipality: actor.role === 'applicant' ? (actor.municipalityId ?? -1) : null,
      q,
      id: number ? Number(number[1]) : null,
      municipalities: JSON.stringify(matching),
    });
  };
}
