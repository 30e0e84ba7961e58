import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/db/client.ts';
import { demoFiles } from '../demo-template.ts';
import { Engine, type EventRow } from '../../src/engine/engine.ts';
import { hashEvent } from '../../src/engine/ledger.ts';
import { loadStreamEvents, replayStream, type LedgerProblem } from '../../src/engine/replay.ts';
import type { Actor } from '../../src/domain/roles.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { persistSnapshot } from '../../src/engine/snapshots.ts';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { ledgerAnchor, verifyLedger } from '../../src/engine/verify.ts';
import { installWorkflows } from '../../src/workflows/index.ts';

/**
 * Tamper evidence (issue 4, point 4): each way of editing the log behind the engine's back is
 * found and named by stream, seq and kind. The demo is copied once into a file; each test works
 * on its own copy, with the append-only triggers dropped first (they are the database's own
 * guard; these tests are about what the chain proves when that guard is gone).
 */
const registry = defaultRegistry();
let dir: string;
let template: string;
const opened: Db[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isu-ib-tamper-'));
  template = await demoFiles(dir, { now: '2027-05-20T09:00:00.000Z', name: 'template.sqlite' });
}, 60_000);

afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let copies = 0;
function copy(): Db {
  const path = join(dir, `copy-${(copies += 1)}.sqlite`);
  copyFileSync(template, path);
  const db = openDb({ path, synchronous: 'OFF' });
  opened.push(db);
  return db;
}

function dropTriggers(db: Db): void {
  db.$client.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
}

/** The closed application with the longest history: ~20 events from creation to closing. */
function longestClosed(db: Db): { id: number; streamId: string; rows: EventRow[] } {
  const { id } = db.$client.prepare<[], { id: number }>("SELECT id FROM applications WHERE state = 'closed' ORDER BY version DESC, id LIMIT 1").get()!;
  const streamId = applicationStreamId(id);
  return { id, streamId, rows: loadStreamEvents(db, streamId) };
}

const named = (problems: LedgerProblem[], stream: string, seq: number | null, kind: LedgerProblem['kind']) =>
  problems.some((p) => p.stream === stream && p.seq === seq && p.kind === kind);

function expectNamed(db: Db, stream: string, seq: number | null, kind: LedgerProblem['kind'], options: Parameters<typeof verifyLedger>[2] = {}): LedgerProblem[] {
  const report = verifyLedger(db, registry, options);
  expect(report.ok).toBe(false);
  expect(named(report.problems, stream, seq, kind), JSON.stringify(report.problems, null, 1)).toBe(true);
  return report.problems;
}

describe('the untouched demo ledger', () => {
  it('verifies clean, and its longest history replays', () => {
    const db = copy();
    const report = verifyLedger(db, registry);
    expect(report.problems).toEqual([]);
    const { streamId, rows } = longestClosed(db);
    expect(rows.length).toBeGreaterThanOrEqual(15);
    expect(replayStream(registry, db.$client.prepare('SELECT id, kind, machine_id AS machineId, machine_version AS machineVersion, state, snapshot, version, head_hash AS headHash, updated_at AS updatedAt FROM streams WHERE id = ?').get(streamId) as never, rows).ok).toBe(true);
  });
});

describe('each kind of tampering is named by stream, seq and kind', () => {
  it('a changed payload: the award raised after the fact', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const award = rows.find((r) => r.type === 'award')!;
    const raised = award.payload.replace(/"amountKopecks":(\d+)/, (_, n: string) => `"amountKopecks":${Number(n) + 10_000_000}`);
    expect(raised).not.toBe(award.payload);
    db.$client.prepare('UPDATE events SET payload = ? WHERE stream_id = ? AND seq = ?').run(raised, streamId, award.seq);
    const problems = expectNamed(db, streamId, award.seq, 'hash-mismatch');
    // Replay with the forged amount no longer gives the stored snapshot either.
    expect(named(problems, streamId, rows.at(-1)!.seq, 'snapshot-mismatch')).toBe(true);
  });

  it('a changed actor: a reviewer’s acceptance put in another reviewer’s name', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const accept = rows.find((r) => r.type === 'accept')!;
    const actor = JSON.parse(accept.actor) as Actor;
    const other = db.$client.prepare<[string], { id: number; login: string; name: string }>("SELECT id, login, name FROM users WHERE role = 'reviewer' AND login <> ? LIMIT 1").get(actor.login)!;
    const forged = JSON.stringify({ id: other.id, login: other.login, municipalityId: null, name: other.name, role: 'reviewer' });
    db.$client.prepare('UPDATE events SET actor = ? WHERE stream_id = ? AND seq = ?').run(forged, streamId, accept.seq);
    expectNamed(db, streamId, accept.seq, 'hash-mismatch');
  });

  it('a changed time: a submission moved back a day', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const submit = rows.find((r) => r.type === 'submit')!;
    const earlier = new Date(Date.parse(submit.at) - 24 * 3600 * 1000).toISOString();
    db.$client.prepare('UPDATE events SET at = ? WHERE stream_id = ? AND seq = ?').run(earlier, streamId, submit.seq);
    expectNamed(db, streamId, submit.seq, 'hash-mismatch');
  });

  it('a deleted event: the return for revision removed', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const target = rows.find((r) => r.type === 'return-for-revision') ?? rows[Math.floor(rows.length / 2)]!;
    db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq = ?').run(streamId, target.seq);
    const problems = expectNamed(db, streamId, target.seq, 'missing-event');
    // The event after it no longer links to the event before it.
    expect(named(problems, streamId, target.seq + 1, 'broken-chain')).toBe(true);
  });

  it('two events swapped: their order in the stream exchanged', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const k = rows.find((r) => r.type === 'sign-agreement')!.seq;
    // The unique (stream, seq) index needs a detour through a free number.
    const renumber = db.$client.prepare('UPDATE events SET seq = ? WHERE stream_id = ? AND seq = ?');
    db.transaction(() => {
      renumber.run(-1, streamId, k);
      renumber.run(k, streamId, k + 1);
      renumber.run(k + 1, streamId, -1);
    });
    const problems = expectNamed(db, streamId, k, 'out-of-order');
    // Named from both sides: by the chain (event k links to event k+1) and by the global order.
    expect(named(problems, streamId, k + 1, 'out-of-order')).toBe(true);
    const message = problems.find((p) => p.stream === streamId && p.seq === k && p.kind === 'out-of-order')!.message;
    expect(message).toContain('reordered');
  });

  it('two events swapped in the global order (positions exchanged): both named', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const [a, b] = [rows[4]!, rows[5]!];
    const move = db.$client.prepare('UPDATE events SET position = ? WHERE position = ?');
    db.transaction(() => {
      move.run(-1, a.position);
      move.run(a.position, b.position);
      move.run(b.position, -1);
    });
    const problems = expectNamed(db, streamId, b.seq, 'out-of-order');
    expect(named(problems, streamId, a.seq, 'hash-mismatch')).toBe(true);
    expect(named(problems, streamId, b.seq, 'hash-mismatch')).toBe(true);
  });

  describe('a tail cut off together with a matching rewrite of the stream row', () => {
    /**
     * After the demo, an applicant works on a draft (two updates and a submission) and the head
     * is published with its anchor. Then the last two events are cut and the stream row, the list
     * projection (every column verify re-derives) and SQLite's autoincrement high-water mark are
     * rewritten to match.
     */
    function cutTail() {
      const db = copy();
      const engine = new Engine(db, { now: () => new Date('2027-05-21T08:00:00.000Z') });
      installWorkflows(engine);
      const applicant = db.$client.prepare<[], { id: number; login: string; name: string; municipalityId: number }>("SELECT id, login, name, municipality_id AS municipalityId FROM users WHERE login = 'applicant1'").get()!;
      const actor: Actor = { ...applicant, role: 'applicant' };
      const draft = db.$client.prepare<[number], { id: number; version: number }>("SELECT a.id, a.version FROM applications a JOIN programmes p ON p.id = a.programme_id WHERE a.state = 'draft' AND a.municipality_id = ? AND a.total_kopecks > 0 ORDER BY p.year DESC, a.id LIMIT 1").get(applicant.municipalityId)!;
      let version = draft.version;
      version = sendApplicationEvent(engine, actor, draft.id, 'update', { beneficiaries: 321 }, version).version;
      const keep = version;
      const streamId = applicationStreamId(draft.id);
      const kept = engine.loadStream(streamId)!;
      version = sendApplicationEvent(engine, actor, draft.id, 'update', { meetingAttendance: 99 }, version).version;
      version = sendApplicationEvent(engine, actor, draft.id, 'submit', {}, version).version;
      const published = verifyLedger(db, registry);
      expect(published.ok).toBe(true);
      const anchor = ledgerAnchor(db);
      expect(anchor.head).toBe(published.head);

      dropTriggers(db);
      db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq > ?').run(streamId, keep);
      db.$client
        .prepare('UPDATE streams SET state = ?, snapshot = ?, version = ?, head_hash = ?, updated_at = ? WHERE id = ?')
        .run(kept.state, kept.snapshot, kept.version, kept.headHash, kept.updatedAt, streamId);
      // The whole list row, as verify re-derives it from the ledger (issue 17.2).
      const keptContext = (JSON.parse(kept.snapshot) as { context: { firstSubmittedAt: string | null } }).context;
      db.$client
        .prepare('UPDATE applications SET state = ?, version = ?, first_submitted_at = ?, updated_at = ? WHERE stream_id = ?')
        .run(kept.state, kept.version, keptContext.firstSubmittedAt, kept.updatedAt, streamId);
      // And the scoring input the cut update changed.
      const keptForm = (JSON.parse(kept.snapshot) as { context: { form: { meetingAttendance?: number } } }).context.form;
      db.$client.prepare('UPDATE application_scoring SET meeting_attendance = ? WHERE application_id = ?').run(keptForm.meetingAttendance ?? 0, draft.id);
      db.$client.prepare("UPDATE sqlite_sequence SET seq = (SELECT MAX(position) FROM events) WHERE name = 'events'").run();
      return { db, streamId, keep, published, anchor };
    }

    it('looks whole from inside: that is the limit of a chain without an outside anchor', () => {
      const { db } = cutTail();
      expect(verifyLedger(db, registry).problems).toEqual([]);
    });

    it('is named against the head published earlier', () => {
      const { db, published } = cutTail();
      expectNamed(db, '*', null, 'head-mismatch', { expectedHead: published.head });
    });

    it('is named by stream and first cut event against the published anchor', () => {
      const { db, streamId, keep, anchor } = cutTail();
      const problems = expectNamed(db, streamId, keep + 1, 'missing-event', { anchor });
      expect(problems.find((p) => p.stream === streamId)!.message).toMatch(/tail was cut/);
      expect(named(problems, '*', null, 'head-mismatch')).toBe(true);
    });

    it('a head published earlier still verifies a ledger that has only grown since', () => {
      const db = copy();
      const before = verifyLedger(db, registry).head;
      const engine = new Engine(db, { now: () => new Date('2027-05-21T08:00:00.000Z') });
      installWorkflows(engine);
      const applicant = db.$client.prepare<[], { id: number; login: string; name: string; municipalityId: number }>("SELECT id, login, name, municipality_id AS municipalityId FROM users WHERE login = 'applicant1'").get()!;
      const draft = db.$client.prepare<[number], { id: number; version: number }>("SELECT a.id, a.version FROM applications a JOIN programmes p ON p.id = a.programme_id WHERE a.state = 'draft' AND a.municipality_id = ? ORDER BY p.year DESC, a.id LIMIT 1").get(applicant.municipalityId)!;
      sendApplicationEvent(engine, { ...applicant, role: 'applicant' }, draft.id, 'update', { beneficiaries: 77 }, draft.version);
      const anchorBefore = verifyLedger(db, registry, { expectedHead: before });
      expect(anchorBefore.problems).toEqual([]);
    });
  });

  it('a whole stream rewritten with fresh hashes is found only against the anchor, at the anchored event', () => {
    const db = copy();
    const anchor = ledgerAnchor(db);
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    // A careful forger changes when an update happened and recomputes every later hash and the head.
    const update = rows.find((r) => r.type === 'update')!;
    let prevHash = rows.find((r) => r.seq === update.seq - 1)!.hash;
    const rewrite = db.$client.prepare('UPDATE events SET at = ?, prev_hash = ?, hash = ? WHERE stream_id = ? AND seq = ?');
    for (const row of rows.filter((r) => r.seq >= update.seq)) {
      const at = row.seq === update.seq ? new Date(Date.parse(row.at) - 3600_000).toISOString() : row.at;
      const { hash: _old, ...rest } = { ...row, at, prevHash };
      const hash = hashEvent(rest);
      rewrite.run(at, prevHash, hash, streamId, row.seq);
      prevHash = hash;
    }
    db.$client.prepare('UPDATE streams SET head_hash = ? WHERE id = ?').run(prevHash, streamId);
    // Inside, the rewritten stream is consistent… but for the head a later commission decision
    // quotes (issue 17.2): the decision record pins the log up to it, like an anchor.
    expect(verifyLedger(db, registry).problems.filter((p) => !(p.projection?.table === 'commission_decisions' && p.projection.column === 'ledger_head'))).toEqual([]);
    // …the anchor names the stream and the last event it had then.
    expectNamed(db, streamId, rows.at(-1)!.seq, 'hash-mismatch', { anchor });
    expectNamed(db, '*', null, 'head-mismatch', { anchor });
  });
});

describe('replayStream alone (the per-application verify button) names the same', () => {
  it('a swap, from the chain and the order, without the rest of the ledger', () => {
    const db = copy();
    dropTriggers(db);
    const { streamId, rows } = longestClosed(db);
    const k = rows[6]!.seq;
    const renumber = db.$client.prepare('UPDATE events SET seq = ? WHERE stream_id = ? AND seq = ?');
    db.transaction(() => {
      renumber.run(-1, streamId, k);
      renumber.run(k, streamId, k + 1);
      renumber.run(k + 1, streamId, -1);
    });
    const engine = new Engine(db);
    const result = replayStream(registry, engine.loadStream(streamId)!, loadStreamEvents(db, streamId));
    expect(named(result.problems, streamId, k, 'out-of-order')).toBe(true);
    expect(named(result.problems, streamId, k + 1, 'out-of-order')).toBe(true);
  });

  it('a snapshot row edited alone (a state set by hand) is a snapshot mismatch at the last event', () => {
    const db = copy();
    const { streamId, rows } = longestClosed(db);
    const engine = new Engine(db);
    const stream = engine.loadStream(streamId)!;
    const entry = registry.get(stream.machineId, stream.machineVersion)!;
    const forged = entry.machine.resolveState({ value: 'terminated', context: (JSON.parse(stream.snapshot) as { context: Record<string, unknown> }).context });
    db.$client.prepare('UPDATE streams SET snapshot = ?, state = ? WHERE id = ?').run(persistSnapshot(entry, forged), 'terminated', streamId);
    const result = replayStream(registry, engine.loadStream(streamId)!, loadStreamEvents(db, streamId));
    expect(named(result.problems, streamId, rows.at(-1)!.seq, 'snapshot-mismatch')).toBe(true);
  });
});
