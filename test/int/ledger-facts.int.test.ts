import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { demoDb } from '../demo-template.ts';
import type { LedgerProblem } from '../../src/engine/replay.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { commissionReads } from '../../src/workflows/commission/reads.ts';
import { defaultRegistry } from '../../machines/registry.ts';

/**
 * Every fact a page shows or a guard reads is proven by the ledger (issue 17.2): the commission's
 * decision record against the seal its events carry, the facts stored with events against the
 * streams they came from.
 */
const registry = defaultRegistry();
const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});

async function demo(): Promise<Db> {
  const db = await demoDb();
  opened.push(db);
  return db;
}

const mismatches = (problems: LedgerProblem[]) => problems.filter((p) => p.kind === 'projection-mismatch').map((p) => p.projection);

interface DecisionRow {
  id: number;
  programmeId: number;
  record: string;
  membersPresent: string;
  decidedBy: string;
}

function decided(db: Db): DecisionRow {
  const row = db.$client
    .prepare<[], DecisionRow>('SELECT id, programme_id AS programmeId, record, members_present AS membersPresent, decided_by AS decidedBy FROM commission_decisions ORDER BY id LIMIT 1')
    .get();
  expect(row).toBeDefined();
  return row!;
}

/** Edits the decision record behind the engine's back: the trigger that keeps it final dropped first. */
function forge(db: Db, set: string, ...values: unknown[]): void {
  db.$client.exec('DROP TRIGGER IF EXISTS commission_decisions_no_update');
  db.$client.prepare(`UPDATE commission_decisions SET ${set} WHERE id = ?`).run(...values, decided(db).id);
}

describe('the commission decision is proven by the ledger', () => {
  it('the untouched demo decision is proven, and its protocol says so', async () => {
    const db = await demo();
    const row = decided(db);
    expect(verifyLedger(db, registry).problems).toEqual([]);
    expect(commissionReads(db).decision(row.programmeId)!.unproven).toEqual([]);
  });

  it('an allocated amount raised in the record (its hash recomputed): the row, the column and the amount are named', async () => {
    const db = await demo();
    const row = decided(db);
    const record = JSON.parse(row.record) as { rows: { applicationId: number; allocatedKopecks: number }[] };
    const target = record.rows.find((r) => r.allocatedKopecks > 0)!;
    const was = target.allocatedKopecks;
    target.allocatedKopecks = 90_000_000;
    const { canonicalJson, sha256 } = await import('../../src/engine/ledger.ts');
    const text = canonicalJson(record);
    forge(db, 'record = ?, record_hash = ?', text, sha256(text));
    const found = mismatches(verifyLedger(db, registry).problems);
    expect(found).toContainEqual(expect.objectContaining({ table: 'commission_decisions', key: String(row.programmeId), column: 'record' }));
    expect(found).toContainEqual({
      table: 'commission_decisions',
      key: String(row.programmeId),
      column: `record.rows[application ${target.applicationId}].allocatedKopecks`,
      stored: 90_000_000,
      derived: was,
    });
    // The protocol does not print the forged amount silently.
    expect(commissionReads(db).decision(row.programmeId)!.unproven).toContain('record');
  });

  it('the record changed without its hash: record_hash is named too', async () => {
    const db = await demo();
    const row = decided(db);
    forge(db, 'record = ?', row.record.replace('"allocatedKopecks":', '"allocatedKopecks":1'));
    const columns = mismatches(verifyLedger(db, registry).problems).map((d) => d!.column);
    expect(columns).toEqual(expect.arrayContaining(['record_hash', 'record']));
  });

  it('the members present and the decider changed: each named by its column', async () => {
    const db = await demo();
    const row = decided(db);
    const present = JSON.parse(row.membersPresent) as { id: number }[];
    forge(db, 'members_present = ?, decided_by = ?', JSON.stringify(present.slice(1)), row.decidedBy.replace(/"name":"[^"]*"/, '"name":"Someone Else"'));
    const found = mismatches(verifyLedger(db, registry).problems);
    expect(found.map((d) => d!.column).sort()).toEqual(['decided_by', 'members_present']);
    expect(found.every((d) => d!.table === 'commission_decisions' && d!.key === String(row.programmeId))).toBe(true);
    expect(commissionReads(db).decision(row.programmeId)!.unproven.sort()).toEqual(['decided_by', 'members_present']);
  });

  it('the time of the decision and the ledger head it quotes', async () => {
    const db = await demo();
    forge(db, "decided_at = '2020-01-01T00:00:00.000Z', ledger_events = ledger_events - 1");
    const columns = mismatches(verifyLedger(db, registry).problems).map((d) => d!.column).sort();
    expect(columns).toEqual(['decided_at', 'ledger_head']);
  });
});
