import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { sha256 } from './ledger.ts';
import type { ProjectionDifference } from './projections.ts';

/**
 * The commission's decision proven by the ledger (issue 17.2). Its record (commission_decisions)
 * is written beside the `award` / `not-award` events it decides, in their transaction; each of
 * those events carries in its facts the seal of the record — the hash of every column, whole —
 * so the record is covered by the events' chain. Verify recomputes the seal from the row and
 * names the column that is no longer what was sealed; the amounts the record shows are compared
 * with the `award` events themselves; the ledger head it quotes with the log.
 */

/** The columns of a decision that are sealed, as stored. */
export interface DecisionColumns {
  programmeId: number;
  decidedAt: string;
  decidedBy: string;
  membersPresent: string;
  record: string;
}

/** What an event's facts carry of the decision: the programme and each column's hash. */
export interface DecisionSeal {
  programmeId: number;
  decidedAt: string;
  decidedBy: string;
  membersPresent: string;
  record: string;
}

export function decisionSeal(columns: DecisionColumns): DecisionSeal {
  return {
    programmeId: columns.programmeId,
    decidedAt: sha256(columns.decidedAt),
    decidedBy: sha256(columns.decidedBy),
    membersPresent: sha256(columns.membersPresent),
    record: sha256(columns.record),
  };
}

interface DecisionRow {
  id: number;
  programmeId: number;
  decidedAt: string;
  decidedBy: string;
  membersPresent: string;
  record: string;
  recordHash: string;
  ledgerHead: string;
  ledgerEvents: number;
}

const sealedColumns = [
  ['decidedAt', 'decided_at'],
  ['decidedBy', 'decided_by'],
  ['membersPresent', 'members_present'],
  ['record', 'record'],
] as const;

/**
 * Every column of the programme's decision record that is not what the ledger sealed, by table
 * (commission_decisions), key (the programme's id) and column; `heads` (the head after each
 * prefix of the log, with its length) checks the ledger head the record quotes.
 */
export function decisionDifferences(db: Db, heads?: Map<string, number>, programmeId?: number): ProjectionDifference[] {
  const rows = statement<[], DecisionRow>(
    db,
    `SELECT id, programme_id AS programmeId, decided_at AS decidedAt, decided_by AS decidedBy, members_present AS membersPresent, record,
       record_hash AS recordHash, ledger_head AS ledgerHead, ledger_events AS ledgerEvents FROM commission_decisions ORDER BY id`,
  )
    .all()
    .filter((row) => programmeId === undefined || row.programmeId === programmeId);
  if (rows.length === 0) return [];
  const sealsOf = statement<[{ programmeId: number }], { facts: string; payload: string; type: string; streamId: string }>(
    db,
    // Through the programme's applications: the events' index by stream, not a scan of the log.
    `SELECT e.facts, e.payload, e.type, e.stream_id AS streamId FROM applications a JOIN events e ON e.stream_id = a.stream_id
     WHERE a.programme_id = @programmeId AND e.type IN ('award', 'not-award')
     ORDER BY e.position`,
  );
  const applicationOf = statement<[string], { id: number }>(db, 'SELECT id FROM applications WHERE stream_id = ?');
  const found: ProjectionDifference[] = [];
  for (const row of rows) {
    const key = String(row.programmeId);
    const differ = (column: string, stored: string | number | null, derived: string | number | null) =>
      found.push({ table: 'commission_decisions', key, column, stored, derived });
    if (row.recordHash !== sha256(row.record)) differ('record_hash', row.recordHash, sha256(row.record));
    if (heads && heads.get(row.ledgerHead) !== row.ledgerEvents) {
      differ('ledger_head', row.ledgerHead, `the head of the first ${row.ledgerEvents} events of the log`);
    }
    const sealed = sealsOf.all({ programmeId: row.programmeId });
    if (sealed.length === 0) {
      differ('*', 'a row', 'no award or not-award event of this programme');
      continue;
    }
    const seal = sealed.map((event) => (JSON.parse(event.facts) as { decision?: DecisionSeal }).decision).find((s) => s?.programmeId === row.programmeId);
    // A decision recorded before the seal existed is proven by its amounts (below) and the head it quotes only.
    if (seal) {
      const now = decisionSeal(row);
      for (const [field, column] of sealedColumns) {
        if (now[field] !== seal[field]) differ(column, row[field], `the text whose hash is ${seal[field]}`);
      }
    }
    // The amounts, named row by row: what the record allots against the `award` event of each application.
    const awarded = new Map<number, number>();
    for (const event of sealed) {
      const application = applicationOf.get(event.streamId);
      if (!application) continue;
      awarded.set(application.id, event.type === 'award' ? ((JSON.parse(event.payload) as { amountKopecks: number }).amountKopecks ?? 0) : 0);
    }
    let record: { rows?: { applicationId: number; allocatedKopecks: number }[] };
    try {
      record = JSON.parse(row.record) as typeof record;
    } catch {
      continue;
    }
    for (const shown of record.rows ?? []) {
      const ledger = awarded.get(shown.applicationId);
      if (ledger === undefined) differ(`record.rows[application ${shown.applicationId}]`, 'a row', 'no decision event for this application');
      else if (ledger !== shown.allocatedKopecks) differ(`record.rows[application ${shown.applicationId}].allocatedKopecks`, shown.allocatedKopecks, ledger);
    }
  }
  return found;
}
