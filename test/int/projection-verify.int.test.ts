import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { demoDb } from '../demo-template.ts';
import type { LedgerProblem } from '../../src/engine/replay.ts';
import { saveCheckpoints, verifyLedger, verifyWithCheckpoints } from '../../src/engine/verify.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { api, startApp, token } from './http-helpers.ts';

/**
 * What the pages show is what the ledger proves (issue 17.2, first part): verify re-derives the
 * applications list row and the stages table from the streams' snapshots, and names each column
 * edited behind the engine's back by table, key and column.
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

describe('verify re-derives the projections', () => {
  it('finds none on the untouched demo', async () => {
    const db = await demo();
    const report = verifyLedger(db, registry);
    expect(report.problems).toEqual([]);
  });

  it('a rejected application made a winner in the list: applications, its id, state (and the amount)', async () => {
    const db = await demo();
    const { id, streamId } = db.$client.prepare<[], { id: number; streamId: string }>("SELECT id, stream_id AS streamId FROM applications WHERE state = 'rejected' ORDER BY id LIMIT 1").get()!;
    db.$client.prepare("UPDATE applications SET state = 'awarded', awarded_kopecks = 90000000 WHERE id = ?").run(id);
    const report = verifyLedger(db, registry);
    expect(report.ok).toBe(false);
    expect(mismatches(report.problems)).toEqual([
      { table: 'applications', key: String(id), column: 'state', stored: 'awarded', derived: 'rejected' },
      { table: 'applications', key: String(id), column: 'awarded_kopecks', stored: 90000000, derived: null },
    ]);
    expect(report.problems.every((p) => p.stream === streamId)).toBe(true);
    expect(report.problems[0]!.message).toBe(`applications ${id}: state is "awarded", the ledger gives "rejected"`);
  });

  it('a planned stage made active in the stages table: stages, its id, state', async () => {
    const db = await demo();
    const stage = db.$client.prepare<[], { id: number; streamId: string }>("SELECT id, stream_id AS streamId FROM stages WHERE state = 'planned' ORDER BY programme_id DESC, no LIMIT 1").get()!;
    db.$client.prepare("UPDATE stages SET state = 'active' WHERE id = ?").run(stage.id);
    const report = verifyLedger(db, registry);
    expect(mismatches(report.problems)).toEqual([{ table: 'stages', key: String(stage.id), column: 'state', stored: 'active', derived: 'planned' }]);
  });

  it('a forged stage state lets no event through: the commission made active in the stages table still refuses a score', async () => {
    const t = await startApp();
    try {
      const sqlite = t.db.$client;
      const commission = sqlite.prepare<[], { id: number; programmeId: number; state: string }>("SELECT id, programme_id AS programmeId, state FROM stages WHERE key = 'commission' AND state = 'planned' ORDER BY programme_id DESC LIMIT 1").get()!;
      const accepted = sqlite.prepare<[number], { id: number; version: number }>("SELECT id, version FROM applications WHERE programme_id = ? AND state = 'accepted' ORDER BY id LIMIT 1").get(commission.programmeId)!;
      sqlite.prepare("UPDATE stages SET state = 'active' WHERE id = ?").run(commission.id);
      const events = sqlite.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').pluck();
      const before = events.get();
      const member = await token(t.app, 'commission1');
      const scored = await api(t.app, member, 'POST', `/api/applications/${accepted.id}/events`, { type: 'score', expectedVersion: accepted.version, significance: 5 });
      expect(scored.status).toBe(422);
      expect(scored.body.reason).toBe('stage.closed');
      expect(events.get()).toBe(before);
      // And verify names the edit.
      expect(mismatches(verifyLedger(t.db, registry).problems)).toContainEqual({ table: 'stages', key: String(commission.id), column: 'state', stored: 'active', derived: 'planned' });
    } finally {
      await t.close();
    }
  });

  it('a member’s score raised, a scoring input changed and one removed: scores and application_scoring, by row and column', async () => {
    const db = await demo();
    const score = db.$client.prepare<[], { applicationId: number; memberId: number; centi: number }>('SELECT application_id AS applicationId, member_id AS memberId, significance_centi AS centi FROM scores ORDER BY application_id, member_id LIMIT 1').get()!;
    expect(score).toBeDefined();
    db.$client.prepare('UPDATE scores SET significance_centi = 500 WHERE application_id = ? AND member_id = ?').run(score.applicationId, score.memberId);
    const [input, gone] = db.$client.prepare<[], { id: number; beneficiaries: number }>('SELECT application_id AS id, beneficiaries FROM application_scoring ORDER BY application_id LIMIT 2').all();
    db.$client.prepare('UPDATE application_scoring SET beneficiaries = beneficiaries + 1000 WHERE application_id = ?').run(input!.id);
    db.$client.prepare('DELETE FROM application_scoring WHERE application_id = ?').run(gone!.id);
    const found = mismatches(verifyLedger(db, registry).problems);
    expect(found).toEqual(
      expect.arrayContaining([
        { table: 'scores', key: `${score.applicationId}/${score.memberId}`, column: 'significance_centi', stored: 500, derived: score.centi },
        { table: 'application_scoring', key: String(input!.id), column: 'beneficiaries', stored: input!.beneficiaries + 1000, derived: input!.beneficiaries },
        { table: 'application_scoring', key: String(gone!.id), column: '*', stored: null, derived: 'a row' },
      ]),
    );
    expect(found).toHaveLength(score.centi === 500 ? 2 : 3);
  });

  it('the state column of a stream row, beside a snapshot left as it was', async () => {
    const db = await demo();
    const { id } = db.$client.prepare<[], { id: string }>("SELECT id FROM streams WHERE machine_id = 'stage' AND state = 'planned' ORDER BY id LIMIT 1").get()!;
    db.$client.prepare("UPDATE streams SET state = 'active' WHERE id = ?").run(id);
    expect(mismatches(verifyLedger(db, registry).problems)).toEqual([{ table: 'streams', key: id, column: 'state', stored: 'active', derived: 'planned' }]);
  });

  it('a list row edited after the stream was checkpointed: the incremental verify finds it too', async () => {
    const db = await demo();
    const first = verifyWithCheckpoints(db, registry);
    expect(first.report.ok).toBe(true);
    saveCheckpoints(db, first.checkpoints);
    const { id } = db.$client.prepare<[], { id: number }>("SELECT id FROM applications WHERE state = 'submitted' ORDER BY id LIMIT 1").get()!;
    db.$client.prepare('UPDATE applications SET total_kopecks = total_kopecks + 100 WHERE id = ?').run(id);
    const report = verifyLedger(db, registry, { incremental: true });
    expect(report.replayed).toBe(0);
    expect(mismatches(report.problems)).toEqual([expect.objectContaining({ table: 'applications', key: String(id), column: 'total_kopecks' })]);
  });

  it('is in the API report, by table, key and column', async () => {
    const t = await startApp();
    try {
      const { id } = t.db.$client.prepare<[], { id: number }>("SELECT id FROM applications WHERE state = 'rejected' ORDER BY id LIMIT 1").get()!;
      t.db.$client.prepare("UPDATE applications SET state = 'awarded' WHERE id = ?").run(id);
      const response = await api(t.app, await token(t.app, 'auditor1'), 'GET', '/api/audit/verify');
      expect(response.body.ok).toBe(false);
      expect(response.body.problems).toContainEqual(
        expect.objectContaining({ kind: 'projection-mismatch', projection: { table: 'applications', key: String(id), column: 'state', stored: 'awarded', derived: 'rejected' } }),
      );
    } finally {
      await t.close();
    }
  });
});
