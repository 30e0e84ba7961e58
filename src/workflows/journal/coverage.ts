import type { Db } from '../../db/client.ts';
import { statement } from '../../db/statements.ts';
import { journalKinds, type JournalKind } from '../../domain/journal.ts';

/** One municipality's row of the coverage: how many standing entries of each kind cover it, and the people they counted. */
export interface CoverageRow {
  municipalityId: number;
  name: string;
  /** It has an application in the programme that was submitted at least once. */
  applied: boolean;
  applications: number;
  entries: Record<JournalKind, number>;
  /** Residents at its preliminary and final meetings, guests at its opening ceremonies. */
  participants: { preliminary: number; final: number; ceremonies: number };
}

/** The programme's coverage by the journal (issue 14): what the coverage page, its CSV and the analytical report count. */
export interface JournalCoverage {
  programmeId: number;
  rows: CoverageRow[];
  totals: {
    /** Standing entries of each kind. */
    entries: Record<JournalKind, number>;
    /** People counted by each kind (trainings' participants, meetings' attendance, ceremonies' guests). */
    participants: Record<JournalKind, number>;
    municipalities: number;
    applied: number;
    trained: number;
    /** Municipalities with at least one final meeting, and those of them that applied. */
    withFinalMeeting: number;
    appliedWithFinalMeeting: number;
    consulted: number;
  };
}

/** The kinds that are about municipalities: the coverage's columns (an announcement is about the whole programme). */
export const coverageKinds = journalKinds.filter((kind) => kind !== 'announcement');

const zeroKinds = (): Record<JournalKind, number> => Object.fromEntries(journalKinds.map((kind) => [kind, 0])) as Record<JournalKind, number>;

/**
 * The coverage of a programme: every municipality × every kind of entry, counted from the
 * journal's projection (standing entries only: a superseded entry counts as its correction).
 */
export function journalCoverage(db: Db, programmeId: number): JournalCoverage {
  const municipalities = statement<[], { id: number; name: string }>(db, 'SELECT id, name FROM municipalities ORDER BY name').all();
  const applications = statement<[number], { municipalityId: number; applications: number; applied: number }>(
    db,
    `SELECT municipality_id AS municipalityId, count(*) AS applications, sum(first_submitted_at IS NOT NULL) AS applied
     FROM applications WHERE programme_id = ? GROUP BY municipality_id`,
  ).all(programmeId);
  const counts = statement<[number], { municipalityId: number; kind: JournalKind; entries: number; participants: number }>(
    db,
    `SELECT em.municipality_id AS municipalityId, e.kind, count(*) AS entries, sum(e.participants) AS participants
     FROM journal_entries e JOIN journal_entry_municipalities em ON em.entry_id = e.id
     WHERE e.programme_id = ? AND e.state = 'recorded' GROUP BY em.municipality_id, e.kind`,
  ).all(programmeId);
  const byKind = statement<[number], { kind: JournalKind; entries: number; participants: number }>(
    db,
    "SELECT kind, count(*) AS entries, sum(participants) AS participants FROM journal_entries WHERE programme_id = ? AND state = 'recorded' GROUP BY kind",
  ).all(programmeId);

  const rows: CoverageRow[] = municipalities.map((m) => {
    const filed = applications.find((a) => a.municipalityId === m.id);
    const entries = zeroKinds();
    const participants = { preliminary: 0, final: 0, ceremonies: 0 };
    for (const count of counts.filter((c) => c.municipalityId === m.id)) {
      entries[count.kind] = count.entries;
      if (count.kind === 'preliminary-meeting') participants.preliminary = count.participants;
      if (count.kind === 'final-meeting') participants.final = count.participants;
      if (count.kind === 'opening-ceremony') participants.ceremonies = count.participants;
    }
    return { municipalityId: m.id, name: m.name, applied: (filed?.applied ?? 0) > 0, applications: filed?.applications ?? 0, entries, participants };
  });
  const entries = zeroKinds();
  const participants = zeroKinds();
  for (const row of byKind) {
    entries[row.kind] = row.entries;
    participants[row.kind] = row.participants;
  }
  return {
    programmeId,
    rows,
    totals: {
      entries,
      participants,
      municipalities: rows.length,
      applied: rows.filter((r) => r.applied).length,
      trained: rows.filter((r) => r.entries.training > 0).length,
      withFinalMeeting: rows.filter((r) => r.entries['final-meeting'] > 0).length,
      appliedWithFinalMeeting: rows.filter((r) => r.applied && r.entries['final-meeting'] > 0).length,
      consulted: rows.filter((r) => r.entries.consultation > 0).length,
    },
  };
}
