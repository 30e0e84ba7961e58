import type { Db } from '../../db/client.ts';
import { perDatabase, statement } from '../../db/statements.ts';
import { journalKindStages, journalKinds, journalVisibleTo, type JournalKind } from '../../domain/journal.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine, StreamRow } from '../../engine/engine.ts';
import { NotFoundError } from '../../engine/errors.ts';
import type { JournalContext } from '../../../machines/journal.ts';

export const journalStreamId = (id: number) => `journal-${id}`;
export const journalEntryIdOf = (streamId: string): number | null => {
  const match = /^journal-(\d+)$/.exec(streamId);
  return match ? Number(match[1]) : null;
};

/** One row of the journal's list projection, with the names a list shows. */
export interface JournalRow {
  id: number;
  streamId: string;
  programmeId: number;
  kind: JournalKind;
  state: string;
  version: number;
  municipalityId: number | null;
  municipalityName: string | null;
  applicationId: number | null;
  heldOn: string;
  participants: number;
  summary: string;
  documents: number;
  supersedes: number | null;
  supersededBy: number | null;
  recordedAt: string;
  recordedBy: string;
  /** Every municipality the entry covers (comma-separated ids in SQL, a list here). */
  municipalities: number[];
}

const ROW_COLUMNS = `e.id, e.stream_id AS streamId, e.programme_id AS programmeId, e.kind, e.state, e.version, e.municipality_id AS municipalityId,
  m.name AS municipalityName, e.application_id AS applicationId, e.held_on AS heldOn, e.participants, e.summary, e.documents, e.supersedes,
  e.superseded_by AS supersededBy, e.recorded_at AS recordedAt, e.recorded_by AS recordedBy,
  (SELECT group_concat(em.municipality_id) FROM journal_entry_municipalities em WHERE em.entry_id = e.id) AS municipalityList`;

type RawRow = Omit<JournalRow, 'municipalities'> & { municipalityList: string | null };
const toRow = (raw: RawRow): JournalRow => {
  const { municipalityList, ...rest } = raw;
  return { ...rest, municipalities: municipalityList ? municipalityList.split(',').map(Number) : [] };
};

/** The journal's filters: a kind, the kinds a stage owns, a municipality, a range of dates. */
export interface JournalFilter {
  kind?: JournalKind;
  stage?: string;
  municipalityId?: number;
  from?: string;
  to?: string;
  /** Superseded entries too (the audit's view); by default only the standing ones. */
  all?: boolean;
}

/** The kinds a filter asks for: one kind, the kinds a stage owns, or every kind. */
export function filterKinds(filter: JournalFilter): JournalKind[] {
  const kinds = filter.stage ? journalKinds.filter((kind) => journalKindStages[kind].includes(filter.stage!)) : [...journalKinds];
  return filter.kind ? kinds.filter((kind) => kind === filter.kind) : kinds;
}

export const journalReads = perDatabase((db: Db) => {
  const sqlite = db.$client;
  const byId = sqlite.prepare<[number], RawRow>(`SELECT ${ROW_COLUMNS} FROM journal_entries e LEFT JOIN municipalities m ON m.id = e.municipality_id WHERE e.id = ?`);
  const byStream = sqlite.prepare<[string], { id: number; programmeId: number; kind: string; state: string; municipalityId: number | null }>(
    'SELECT id, programme_id AS programmeId, kind, state, municipality_id AS municipalityId FROM journal_entries WHERE stream_id = ?',
  );
  const coveredBy = sqlite.prepare<[number], { municipalityId: number }>('SELECT municipality_id AS municipalityId FROM journal_entry_municipalities WHERE entry_id = ?');
  const ofApplication = sqlite.prepare<[number], RawRow>(
    `SELECT ${ROW_COLUMNS} FROM journal_entries e LEFT JOIN municipalities m ON m.id = e.municipality_id WHERE e.application_id = ? AND e.state = 'recorded' ORDER BY e.held_on, e.id`,
  );
  const countsByKind = sqlite.prepare<[number], { kind: string; count: number }>(
    "SELECT kind, count(*) AS count FROM journal_entries WHERE programme_id = ? AND state = 'recorded' GROUP BY kind",
  );
  const countsByMunicipality = sqlite.prepare<[number], { kind: string; municipalityId: number; count: number }>(
    `SELECT e.kind, em.municipality_id AS municipalityId, count(*) AS count FROM journal_entries e JOIN journal_entry_municipalities em ON em.entry_id = e.id
     WHERE e.programme_id = ? AND e.state = 'recorded' GROUP BY e.kind, em.municipality_id`,
  );
  const applied = sqlite.prepare<[number], { id: number; name: string }>(
    `SELECT DISTINCT m.id, m.name FROM applications a JOIN municipalities m ON m.id = a.municipality_id
     WHERE a.programme_id = ? AND a.first_submitted_at IS NOT NULL ORDER BY m.name`,
  );
  const applicationsOfMunicipality = sqlite.prepare<[number, number], { id: number }>('SELECT id FROM applications WHERE programme_id = ? AND municipality_id = ? ORDER BY id');
  return {
    byId: (id: number): JournalRow | undefined => {
      const raw = byId.get(id);
      return raw ? toRow(raw) : undefined;
    },
    ofStream: (streamId: string) => byStream.get(streamId),
    municipalitiesOf: (id: number): number[] => coveredBy.all(id).map((row) => row.municipalityId),
    /** The standing entries about an application: its final meeting, its consultations, its opening ceremony. */
    ofApplication: (applicationId: number): JournalRow[] => ofApplication.all(applicationId).map(toRow),
    /** What the stages' exit conditions read: standing entries per kind, and per kind and municipality. */
    counts(programmeId: number): { byKind: Record<string, number>; byMunicipality: Record<string, Record<string, number>> } {
      const byKind = Object.fromEntries(countsByKind.all(programmeId).map((row) => [row.kind, row.count]));
      const byMunicipality: Record<string, Record<string, number>> = {};
      for (const row of countsByMunicipality.all(programmeId)) (byMunicipality[row.kind] ??= {})[String(row.municipalityId)] = row.count;
      return { byKind, byMunicipality };
    },
    /** The municipalities that applied: those with an application submitted at least once. */
    appliedMunicipalities: (programmeId: number): { id: number; name: string }[] => applied.all(programmeId),
    applicationsOfMunicipality: (programmeId: number, municipalityId: number): number[] => applicationsOfMunicipality.all(programmeId, municipalityId).map((row) => row.id),
  };
});

/**
 * The journal of a programme as the actor may see it, newest first, filtered. One prepared
 * statement per combination of filters (no `? IS NULL OR` that no index can serve).
 */
export function listJournal(db: Db, actor: Actor, programmeId: number, filter: JournalFilter, limit = 200): JournalRow[] {
  const kinds = filterKinds(filter);
  if (kinds.length === 0) return [];
  const where = ['e.programme_id = ?', `e.kind IN (${kinds.map(() => '?').join(', ')})`];
  const params: unknown[] = [programmeId, ...kinds];
  if (!filter.all) where.push("e.state = 'recorded'");
  if (filter.municipalityId !== undefined) {
    where.push('EXISTS (SELECT 1 FROM journal_entry_municipalities f WHERE f.entry_id = e.id AND f.municipality_id = ?)');
    params.push(filter.municipalityId);
  }
  if (filter.from) {
    where.push('e.held_on >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    where.push('e.held_on <= ?');
    params.push(filter.to);
  }
  // An applicant's list holds what `journalVisibleTo` lets them see: announcements and their own municipality's entries.
  if (actor.role === 'applicant') {
    where.push("(e.kind = 'announcement' OR EXISTS (SELECT 1 FROM journal_entry_municipalities v WHERE v.entry_id = e.id AND v.municipality_id = ?))");
    params.push(actor.municipalityId ?? -1);
  }
  params.push(limit);
  const rows = statement<unknown[], RawRow>(
    db,
    `SELECT ${ROW_COLUMNS} FROM journal_entries e LEFT JOIN municipalities m ON m.id = e.municipality_id WHERE ${where.join(' AND ')} ORDER BY e.held_on DESC, e.id DESC LIMIT ?`,
  ).all(...params);
  return rows.map(toRow).filter((row) => journalVisibleTo(actor, row));
}

/** One entry the actor may see, with its stream and context; any other is "not found". */
export interface LoadedEntry {
  row: JournalRow;
  stream: StreamRow;
  context: JournalContext;
}

export function loadJournalEntry(engine: Engine, actor: Actor, id: number, programmeId?: number): LoadedEntry {
  const row = journalReads(engine.db).byId(id);
  if (!row || (programmeId !== undefined && row.programmeId !== programmeId) || !journalVisibleTo(actor, row)) throw new NotFoundError(`journal entry ${id} not found`);
  const stream = engine.loadStream(row.streamId);
  if (!stream) throw new NotFoundError(`journal entry ${id} not found`);
  return { row, stream, context: (JSON.parse(stream.snapshot) as { context: JournalContext }).context };
}
