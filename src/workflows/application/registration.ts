import type { Db } from '../../db/client.ts';
import { recordSetting } from '../../engine/settings-log.ts';
import type { LogActor } from '../../engine/chained-log.ts';
import { statement } from '../../db/statements.ts';
import type { EventRow } from '../../engine/engine.ts';

/** The code an application's number starts with when the admin has set none for its programme. */
export const DEFAULT_PROGRAMME_CODE = 'ИБ';

/** The programme code as the admin may write it: capital letters (Cyrillic or Latin) and digits, 1–10 of them. */
export const programmeCodePattern = /^[A-ZА-ЯЁ0-9]{1,10}$/u;

/** `<code>-<year>-<NNNN>`: the sequence padded to four digits (more when it passes 9999). */
export function formatRegistrationNo(code: string, year: number, seq: number): string {
  return `${code}-${year}-${String(seq).padStart(4, '0')}`;
}

/** What a page names an application by: its registration number, or for one never numbered its id. */
export function applicationLabel(row: { id: number; registrationNo?: string | null }): string {
  return row.registrationNo ?? String(row.id);
}

export interface RegistrationFact {
  registration: { no: string; seq: number };
}

/**
 * Registration numbers (issue 13). The first `submit` of an application carries, in its facts,
 * the next number of its programme — the greatest sequence given so far plus one, read inside
 * the event's immediate transaction, so two submissions can never read the same greatest one —
 * and the projection writes it to the row in the same transaction. A unique index on
 * (programme, sequence) refuses a duplicate should anything else ever write one.
 */
export function registrationNumbers(db: Db) {
  const numberOf = db.$client.prepare<[string], { id: number; programmeId: number; registrationNo: string | null; code: string | null; year: number }>(
    `SELECT a.id, a.programme_id AS programmeId, a.registration_no AS registrationNo, p.code, p.year
     FROM applications a JOIN programmes p ON p.id = a.programme_id WHERE a.stream_id = ?`,
  );
  const greatest = db.$client.prepare<[number], { seq: number }>('SELECT COALESCE(MAX(registration_seq), 0) AS seq FROM applications WHERE programme_id = ?');
  const write = db.$client.prepare<[string, number, string]>(
    'UPDATE applications SET registration_no = ?, registration_seq = ? WHERE stream_id = ? AND registration_no IS NULL',
  );
  return {
    /** The fact a submission records: the next number, or nothing for an application numbered already. */
    next(streamId: string): RegistrationFact | Record<string, never> {
      const row = numberOf.get(streamId);
      if (!row || row.registrationNo) return {};
      const seq = greatest.get(row.programmeId)!.seq + 1;
      return { registration: { no: formatRegistrationNo(row.code ?? DEFAULT_PROGRAMME_CODE, row.year, seq), seq } };
    },
    /** Writes the number an event's facts carry (a first `submit`); returns the application's number, if it has one. */
    record(streamId: string, event: EventRow): string | null {
      if (event.type === 'submit') {
        const facts = JSON.parse(event.facts) as Partial<RegistrationFact>;
        if (facts.registration) write.run(facts.registration.no, facts.registration.seq, streamId);
      }
      return numberOf.get(streamId)?.registrationNo ?? null;
    },
  };
}

/** Sets a programme's code (admins): the applications numbered from then on carry it; those numbered already keep theirs. */
export function saveProgrammeCode(db: Db, programmeId: number, code: string, by: LogActor = null, now = new Date()): boolean {
  if (!programmeCodePattern.test(code)) return false;
  db.$client
    .transaction(() => {
      db.$client.prepare('UPDATE programmes SET code = ? WHERE id = ?').run(code, programmeId);
      recordSetting(db.$client, 'programmes', programmeId, now, by);
    })
    .immediate();
  return true;
}

/** The labels of a page of applications at once (the queue reads its own table): id → number or id. */
export function applicationLabels(db: Db, ids: readonly number[]): Map<number, string> {
  if (ids.length === 0) return new Map();
  const rows = statement<[string], { id: number; registrationNo: string | null }>(db, 'SELECT id, registration_no AS registrationNo FROM applications WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids));
  return new Map(rows.map((row) => [row.id, applicationLabel(row)]));
}
