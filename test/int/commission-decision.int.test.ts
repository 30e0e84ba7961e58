import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordSetting } from '../../src/engine/settings-log.ts';
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.ts';
import { users } from '../../src/db/schema.ts';
import { demoDb } from '../demo-template.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import { defaultCommissionSettings } from '../../src/domain/criteria.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ForbiddenError, NotAllowedError, ValidationError } from '../../src/engine/errors.ts';
import { sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { sendStageEvent } from '../../src/workflows/stage/commands.ts';
import { findStage } from '../../src/workflows/stage/reads.ts';
import { ledgerHeadOf, verifyLedger } from '../../src/engine/verify.ts';
import { recordDecision } from '../../src/workflows/commission/decision.ts';
import { saveCommissionSettings } from '../../src/workflows/commission/settings.ts';
import { commissionReads } from '../../src/workflows/commission/reads.ts';
import { installWorkflows } from '../../src/workflows/index.ts';

/**
 * The commission's decision against a real database (issue 5): all or nothing, refused outside
 * stage 7, without the quorum and a second time; the settings fixed once stage 7 starts.
 */

const PROGRAMME = 2; // the demo's current programme: intake running, nine accepted applications, stage 7 planned

let db: Db;
let engine: Engine;

function actor(login: string): Actor {
  const row = db.select().from(users).where(sql`${users.login} = ${login}`).get()!;
  return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
}

/** Everything a failed decision must leave as it was. */
function snapshotOfProgramme() {
  return {
    applications: db.$client.prepare('SELECT id, state, version, awarded_kopecks FROM applications WHERE programme_id = ? ORDER BY id').all(PROGRAMME),
    streams: db.$client.prepare("SELECT s.id, s.version, s.head_hash, s.snapshot FROM streams s JOIN applications a ON a.stream_id = s.id WHERE a.programme_id = ? ORDER BY s.id").all(PROGRAMME),
    events: db.$client.prepare('SELECT count(*) AS n, max(position) AS p FROM events').get(),
    decisions: db.$client.prepare('SELECT count(*) AS n FROM commission_decisions').get(),
    scores: db.$client.prepare('SELECT * FROM scores ORDER BY application_id, member_id').all(),
  };
}

function startCommissionStage() {
  const coordinator = actor('coordinator1');
  sendStageEvent(engine, coordinator, PROGRAMME, 7, 'start', {}, findStage(engine.db, PROGRAMME, 7).version);
}

/** Every accepted application scored by the given members. */
function scoreAll(members: string[], skip: { member: string; id: number } | null = null) {
  const reads = commissionReads(db);
  for (const login of members) {
    for (const row of reads.liveRanking(PROGRAMME)!.rows) {
      if (skip && skip.member === login && skip.id === row.applicationId) continue;
      const fresh = reads.liveRanking(PROGRAMME)!.rows.find((r) => r.applicationId === row.applicationId)!;
      sendApplicationEvent(engine, actor(login), row.applicationId, 'score', { significance: (row.applicationId % 6) * 0.5 + 2 }, fresh.version);
    }
  }
}

const everyone = () => ({ membersPresent: ['commission1', 'commission2', 'commission3'].map((login) => actor(login).id) });

beforeEach(async () => {
  db = await demoDb({ now: '2027-06-15T09:00:00Z' });
  engine = new Engine(db);
  installWorkflows(engine);
  // A fund smaller than what the accepted applications ask, so that the ranking has winners and losers.
  db.$client.prepare('UPDATE programmes SET fund_kopecks = 400000000 WHERE id = ?').run(PROGRAMME);
  // Entered in the settings log as any change of a programme is (issue 17.2): verify re-derives the table from it.
  recordSetting(db.$client, 'programmes', PROGRAMME, new Date(), null);
});

afterEach(() => {
  db.$client.close();
});

describe('the commission decision', () => {
  it('is refused outside stage 7, changing nothing', () => {
    scoreAllIsImpossibleBeforeStage7();
    const before = snapshotOfProgramme();
    const error = catchError(() => recordDecision(engine, actor('commission1'), PROGRAMME, everyone()));
    expect(error).toBeInstanceOf(NotAllowedError);
    expect((error as NotAllowedError).reason).toBe('commission.refused.stage');
    expect(snapshotOfProgramme()).toEqual(before);
  });

  it('is refused without the quorum of member scores, naming the applications short of it', () => {
    startCommissionStage();
    const first = commissionReads(db).liveRanking(PROGRAMME)!.rows[0]!.applicationId;
    scoreAll(['commission1', 'commission2', 'commission3'], { member: 'commission3', id: first });
    const before = snapshotOfProgramme();
    const error = catchError(() => recordDecision(engine, actor('commission1'), PROGRAMME, everyone())) as NotAllowedError;
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.reason).toBe('commission.refused.quorum');
    expect(error.params).toMatchObject({ count: 1, quorum: 3, ids: `№${first}` });
    expect(snapshotOfProgramme()).toEqual(before);
  });

  it('is all or nothing: a failure on one application (in SQLite) leaves every application as it was', () => {
    startCommissionStage();
    scoreAll(['commission1', 'commission2', 'commission3']);
    const rows = commissionReads(db).liveRanking(PROGRAMME)!.rows;
    // The failure strikes the last application, after every other one has already been sent its event.
    const victim = rows.at(-1)!.applicationId;
    db.$client.exec(`CREATE TEMP TRIGGER fail_one BEFORE UPDATE OF state ON applications WHEN NEW.id = ${victim} BEGIN SELECT RAISE(ABORT, 'the disk is full'); END`);
    const before = snapshotOfProgramme();
    expect(() => recordDecision(engine, actor('commission1'), PROGRAMME, everyone())).toThrow(/the disk is full/);
    expect(snapshotOfProgramme()).toEqual(before);
    expect(verifyLedger(db, engine.registry).problems).toEqual([]);
    db.$client.exec('DROP TRIGGER fail_one');
    // With the failure gone, the same decision goes through.
    recordDecision(engine, actor('commission1'), PROGRAMME, everyone());
    expect(db.$client.prepare("SELECT count(*) AS n FROM applications WHERE programme_id = ? AND state = 'accepted'").get(PROGRAMME)).toEqual({ n: 0 });
  });

  it('is all or nothing: an exception in the engine halfway leaves every application as it was', () => {
    startCommissionStage();
    scoreAll(['commission1', 'commission2', 'commission3']);
    const rows = commissionReads(db).liveRanking(PROGRAMME)!.rows;
    const victim = rows[Math.floor(rows.length / 2)]!;
    const apply = engine.apply.bind(engine);
    let sent = 0;
    engine.apply = (streamId, incoming, expectedVersion, who, authorize) => {
      if (streamId === victim.streamId) throw new Error('power cut');
      sent++;
      return apply(streamId, incoming, expectedVersion, who, authorize);
    };
    const before = snapshotOfProgramme();
    expect(() => recordDecision(engine, actor('commission1'), PROGRAMME, everyone())).toThrow('power cut');
    expect(sent).toBeGreaterThan(0);
    expect(snapshotOfProgramme()).toEqual(before);
  });

  it('awards by the ranking, records the ranking and the ledger head, and is refused a second time', () => {
    startCommissionStage();
    scoreAll(['commission1', 'commission2']);
    scoreAll(['commission3']);
    const live = commissionReads(db).liveRanking(PROGRAMME)!;
    expect(live.rows.some((r) => r.allocatedKopecks === 0)).toBe(true);
    expect(live.rows.some((r) => r.allocatedKopecks > 0)).toBe(true);
    const eventsBefore = ledgerHeadOf(db).events;

    const decision = recordDecision(engine, actor('commission2'), PROGRAMME, everyone());
    expect(decision.membersPresent.map((m) => m.login).sort()).toEqual(['commission1', 'commission2', 'commission3']);
    expect(decision.decidedBy.login).toBe('commission2');
    expect(decision.ledgerEvents).toBe(eventsBefore + live.rows.length);
    // Nothing happened since: the recorded head is the head verify prints now.
    expect(decision.ledgerHead).toBe(verifyLedger(db, engine.registry).head);
    expect(decision.record.rows.map((r) => [r.applicationId, r.allocatedKopecks])).toEqual(live.rows.map((r) => [r.applicationId, r.allocatedKopecks]));

    for (const row of live.rows) {
      const stored = db.$client.prepare<[number], { state: string; awarded_kopecks: number | null }>('SELECT state, awarded_kopecks FROM applications WHERE id = ?').get(row.applicationId)!;
      if (row.allocatedKopecks > 0) expect(stored).toEqual({ state: 'awarded', awarded_kopecks: row.allocatedKopecks });
      else expect(stored).toEqual({ state: 'not-awarded', awarded_kopecks: null });
    }
    const lastEvent = db.$client.prepare<[string], { type: string; payload: string; actor: string }>('SELECT type, payload, actor FROM events WHERE stream_id = ? ORDER BY seq DESC LIMIT 1');
    const loser = live.rows.find((r) => r.allocatedKopecks === 0)!;
    expect(lastEvent.get(loser.streamId)!.type).toBe('not-award');
    // The log keeps why as a code with the rank, never words in one language.
    expect(JSON.parse(lastEvent.get(loser.streamId)!.payload)).toEqual({ why: loser.why ?? 'over-remainder', rank: loser.rank, count: live.rows.length });
    expect(JSON.parse(lastEvent.get(live.rows[0]!.streamId)!.actor).login).toBe('commission2');

    // The stage's exit condition now holds: no accepted application is left undecided.
    expect(commissionReads(db).liveRanking(PROGRAMME)!.rows).toEqual([]);

    const before = snapshotOfProgramme();
    const again = catchError(() => recordDecision(engine, actor('commission1'), PROGRAMME, everyone())) as NotAllowedError;
    expect(again.reason).toBe('commission.refused.decided');
    expect(snapshotOfProgramme()).toEqual(before);
    // The stored decision cannot be changed or removed, even by hand.
    expect(() => db.$client.prepare("UPDATE commission_decisions SET ledger_head = 'x'").run()).toThrow(/final/);
    expect(() => db.$client.prepare('DELETE FROM commission_decisions').run()).toThrow(/final/);
  });

  it('takes the decision only from the commission, and only members as present', () => {
    startCommissionStage();
    scoreAll(['commission1', 'commission2', 'commission3']);
    expect(() => recordDecision(engine, actor('coordinator1'), PROGRAMME, everyone())).toThrow(ForbiddenError);
    expect(() => recordDecision(engine, actor('commission1'), PROGRAMME, { membersPresent: [actor('reviewer1').id] })).toThrow(ValidationError);
    expect(() => recordDecision(engine, actor('commission1'), PROGRAMME, { membersPresent: [] })).toThrow(ValidationError);
  });

  it('is the only way to award: award and not-award sent one by one are refused, naming the decision, and change nothing', () => {
    startCommissionStage();
    scoreAll(['commission1', 'commission2', 'commission3']);
    const row = commissionReads(db).liveRanking(PROGRAMME)!.rows.at(-1)!;
    const before = snapshotOfProgramme();
    for (const [type, payload] of [['award', { amountKopecks: 1_000_00 }], ['not-award', {}]] as const) {
      const error = catchError(() => sendApplicationEvent(engine, actor('commission1'), row.applicationId, type, payload, row.version)) as NotAllowedError;
      expect(error).toBeInstanceOf(NotAllowedError);
      expect(error.reason).toBe('commission.refused.decisionOnly');
      expect(error.params).toMatchObject({ type });
      // Other roles are refused for their role, as before.
      expect(() => sendApplicationEvent(engine, actor('reviewer1'), row.applicationId, type, payload, row.version)).toThrow(ForbiddenError);
    }
    expect(snapshotOfProgramme()).toEqual(before);
  });

  it('with nothing accepted there is nothing to decide', () => {
    db.$client.prepare("UPDATE applications SET state = 'rejected' WHERE programme_id = ? AND state = 'accepted'").run(PROGRAMME);
    startCommissionStage();
    const error = catchError(() => recordDecision(engine, actor('commission1'), PROGRAMME, everyone())) as NotAllowedError;
    expect(error.reason).toBe('commission.refused.nothing');
  });
});

describe('scores', () => {
  it('keep one current score per member (the projection), while the log keeps every one', () => {
    startCommissionStage();
    const row = commissionReads(db).liveRanking(PROGRAMME)!.rows[0]!;
    const member = actor('commission1');
    const first = sendApplicationEvent(engine, member, row.applicationId, 'score', { significance: 2 }, row.version);
    sendApplicationEvent(engine, member, row.applicationId, 'score', { significance: 4.5, comment: 'Передумала' }, first.version);
    const projected = db.$client.prepare('SELECT member_id, significance_centi, comment FROM scores WHERE application_id = ?').all(row.applicationId);
    expect(projected).toEqual([{ member_id: member.id, significance_centi: 450, comment: 'Передумала' }]);
    const logged = db.$client.prepare("SELECT count(*) AS n FROM events WHERE stream_id = ? AND type = 'score'").get(row.streamId);
    expect(logged).toEqual({ n: 2 });
    const after = commissionReads(db).liveRanking(PROGRAMME)!.rows.find((r) => r.applicationId === row.applicationId)!;
    expect(after.criteria.find((c) => c.key === 'social-significance')).toMatchObject({ pointsCenti: 2250, measure: 4.5 });
  });
});

describe('the criteria', () => {
  it('are stored with a new programme, may change before stage 7 starts, and are fixed after', () => {
    const admin = actor('admin1');
    const changed = { ...structuredClone(defaultCommissionSettings), quorum: 2, partialAward: true };
    changed.criteria[0]!.weight = 30;
    expect(saveCommissionSettings(engine, admin, PROGRAMME, changed)).toEqual(changed);
    expect(commissionReads(db).liveRanking(PROGRAMME)!.settings).toEqual(changed);
    expect(() => saveCommissionSettings(engine, actor('commission1'), PROGRAMME, changed)).toThrow(ForbiddenError);
    expect(() => saveCommissionSettings(engine, admin, PROGRAMME, { ...changed, quorum: 0 })).toThrow(ValidationError);
    startCommissionStage();
    const error = catchError(() => saveCommissionSettings(engine, admin, PROGRAMME, defaultCommissionSettings)) as NotAllowedError;
    expect(error.reason).toBe('commission.refused.settings-fixed');
    expect(commissionReads(db).liveRanking(PROGRAMME)!.settings).toEqual(changed);
  });
});

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

/** Scoring itself is gated by stage 7 in the machine: refused while the stage is planned. */
function scoreAllIsImpossibleBeforeStage7() {
  const row = commissionReads(db).liveRanking(PROGRAMME)!.rows[0]!;
  expect(() => sendApplicationEvent(engine, actor('commission1'), row.applicationId, 'score', { significance: 3 }, row.version)).toThrow(NotAllowedError);
}
