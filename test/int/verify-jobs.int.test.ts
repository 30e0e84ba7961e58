import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openDb, type Db } from '../../src/db/client.ts';
import { demoDb, demoFiles } from '../demo-template.ts';
import { buildApp } from '../../src/http/app.ts';
import type { Actor, Role } from '../../src/domain/roles.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { hashEvent } from '../../src/engine/ledger.ts';
import { loadStreamEvents, type LedgerProblem } from '../../src/engine/replay.ts';
import { saveCheckpoints, verifyLedger, verifyWithCheckpoints, type LedgerReport } from '../../src/engine/verify.ts';
import { workflowEngine } from '../../src/workflows/index.ts';
import { postMessage } from '../../src/workflows/conversation/commands.ts';
import { applicationStreamId } from '../../src/workflows/application/reads.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { api, ledgerReport, login, token } from './http-helpers.ts';

/**
 * Verification as a job off the request thread, and incremental verification from per-stream
 * checkpoints (issue 17, point 1).
 */
const registry = defaultRegistry();

function actorOf(db: Db, login: string): Actor {
  const row = db.$client.prepare<[string], { id: number; login: string; name: string; role: Role; municipality_id: number | null }>('SELECT * FROM users WHERE login = ?').get(login)!;
  return { id: row.id, login: row.login, name: row.name, role: row.role, municipalityId: row.municipality_id };
}

const eventCount = (db: Db) => db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;

/** Messages on the demo's submitted applications, through the engine: the events appended. */
function appendMessages(db: Db, engine: Engine, n: number): number {
  const before = eventCount(db);
  const actor = actorOf(db, 'coordinator1');
  const ids = db.$client.prepare<[], { id: number }>("SELECT id FROM applications WHERE state <> 'draft' ORDER BY id LIMIT 3").all().map((r) => r.id);
  for (let i = 0; i < n; i += 1) postMessage(engine, actor, ids[i % ids.length]!, { text: `Проверка ${i}` });
  return eventCount(db) - before;
}

/** A verify that saves its checkpoints, as a job does. */
function verifyAndSave(db: Db, incremental: boolean): LedgerReport {
  const { report, checkpoints } = verifyWithCheckpoints(db, registry, { incremental });
  saveCheckpoints(db, checkpoints);
  return report;
}

const named = (problems: LedgerProblem[], stream: string, seq: number | null, kind: LedgerProblem['kind']) =>
  problems.some((p) => p.stream === stream && p.seq === seq && p.kind === kind);

/** The closed application with the longest history. */
function longest(db: Db): { streamId: string; version: number } {
  const { id, version } = db.$client.prepare<[], { id: number; version: number }>("SELECT id, version FROM applications WHERE state = 'closed' ORDER BY version DESC, id LIMIT 1").get()!;
  return { streamId: applicationStreamId(id), version };
}

describe('incremental verification from checkpoints', () => {
  let db: Db;
  let engine: Engine;
  beforeAll(async () => {
    db = await demoDb();
    engine = workflowEngine(db);
  });
  afterAll(() => db.$client.close());

  it('a full verify leaves a checkpoint per stream; a re-verify then replays only what was appended, with the same head', () => {
    const full = verifyAndSave(db, false);
    expect(full).toMatchObject({ ok: true, problems: [], full: true, replayed: full.events });
    const withEvents = db.$client.prepare<[], { n: number }>('SELECT count(DISTINCT stream_id) AS n FROM events').get()!.n;
    expect(db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM verify_checkpoints').get()!.n).toBe(withEvents);

    const again = verifyAndSave(db, true);
    expect(again).toMatchObject({ ok: true, problems: [], full: false, replayed: 0, events: full.events, head: full.head });

    const appended = appendMessages(db, engine, 5);
    expect(appended).toBeGreaterThanOrEqual(5);
    const incremental = verifyAndSave(db, true);
    expect(incremental).toMatchObject({ ok: true, problems: [], full: false, replayed: appended, events: full.events + appended });
    expect(incremental.head).toBe(verifyLedger(db, registry).head);
    // And the checkpoints moved on: nothing left to replay.
    expect(verifyAndSave(db, true)).toMatchObject({ ok: true, replayed: 0 });
  });

  it('a tampered event below its checkpoint is found by a full verify, and from then on by every incremental one', () => {
    verifyAndSave(db, false);
    const { streamId } = longest(db);
    db.$client.exec('DROP TRIGGER IF EXISTS events_no_update');
    db.$client.prepare("UPDATE events SET at = '2000-01-01T00:00:00.000Z' WHERE stream_id = ? AND seq = 3").run(streamId);
    // Below the checkpoint an incremental verify does not look (what a full one is for)…
    expect(named(verifyLedger(db, registry, { incremental: true }).problems, streamId, 3, 'hash-mismatch')).toBe(false);
    // …the full one names it, and drops the stream's checkpoint,
    const full = verifyAndSave(db, false);
    expect(full.ok).toBe(false);
    expect(named(full.problems, streamId, 3, 'hash-mismatch'), JSON.stringify(full.problems)).toBe(true);
    expect(db.$client.prepare('SELECT 1 FROM verify_checkpoints WHERE stream_id = ?').get(streamId)).toBeUndefined();
    // so that an incremental verify replays that stream whole again, and names it too.
    const incremental = verifyAndSave(db, true);
    expect(named(incremental.problems, streamId, 3, 'hash-mismatch')).toBe(true);
    expect(incremental.replayed).toBeGreaterThanOrEqual(longest(db).version);
  });
});

describe('an incremental verify checks what was appended and where its checkpoints stand', () => {
  let db: Db;
  let engine: Engine;
  beforeAll(async () => {
    db = await demoDb();
    engine = workflowEngine(db);
    verifyAndSave(db, false);
    db.$client.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;');
  });
  afterAll(() => db.$client.close());

  it('an appended event changed after it was written', () => {
    appendMessages(db, engine, 1);
    const last = db.$client.prepare<[], { streamId: string; seq: number }>('SELECT stream_id AS streamId, seq FROM events ORDER BY position DESC LIMIT 1').get()!;
    db.$client.prepare("UPDATE events SET payload = '{\"text\":\"подменено\"}' WHERE stream_id = ? AND seq = ?").run(last.streamId, last.seq);
    const report = verifyLedger(db, registry, { incremental: true });
    expect(named(report.problems, last.streamId, last.seq, 'hash-mismatch'), JSON.stringify(report.problems)).toBe(true);
  });

  it('the event at a checkpoint rewritten with a fresh hash (and the stream row to match)', () => {
    const { streamId, version } = longest(db);
    const [row] = loadStreamEvents(db, streamId).slice(-1);
    const changed = { ...row!, at: '2000-01-01T00:00:00.000Z' };
    const { hash: _old, ...rest } = changed;
    const hash = hashEvent(rest);
    db.$client.prepare('UPDATE events SET at = ?, hash = ? WHERE position = ?').run(changed.at, hash, row!.position);
    db.$client.prepare('UPDATE streams SET head_hash = ? WHERE id = ?').run(hash, streamId);
    // The chain holds now; only the checkpoint remembers the event verified there.
    const report = verifyLedger(db, registry, { incremental: true });
    expect(named(report.problems, streamId, version, 'hash-mismatch'), JSON.stringify(report.problems)).toBe(true);
  });

  it('a stream row whose snapshot was changed while nothing was appended', () => {
    const stream = db.$client.prepare<[string], { id: string; snapshot: string }>("SELECT id, snapshot FROM streams WHERE id LIKE 'application-%' AND id <> ? ORDER BY id LIMIT 1").get(longest(db).streamId)!;
    db.$client.prepare('UPDATE streams SET snapshot = ? WHERE id = ?').run(stream.snapshot.replace('{', '{"forged":true,'), stream.id);
    const report = verifyLedger(db, registry, { incremental: true });
    expect(report.problems.some((p) => p.stream === stream.id && p.kind === 'snapshot-mismatch'), JSON.stringify(report.problems)).toBe(true);
  });

  it('an event deleted below a checkpoint leaves a gap in the global order', () => {
    const { streamId } = longest(db);
    db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq = 2').run(streamId);
    const report = verifyLedger(db, registry, { incremental: true });
    expect(report.problems.some((p) => p.stream === '*' && p.kind === 'missing-event'), JSON.stringify(report.problems)).toBe(true);
  });
});

describe('verification jobs on a file database: a worker thread', () => {
  let dir: string;
  let db: Db;
  let app: FastifyInstance;
  let bearer: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isu-verify-jobs-'));
    db = openDb({ path: await demoFiles(dir), synchronous: 'OFF' });
    app = await buildApp({ db, rateLimitMax: 100_000 });
    await app.ready();
    bearer = await token(app, 'auditor1');
  });
  afterAll(async () => {
    await app.close();
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A job started over the API, waited for, and asked about over the API. */
  async function runJob(query: string) {
    const started = await api<{ job: string }>(app, bearer, 'POST', `/api/audit/verify${query}`);
    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`/api/audit/verify/${started.body.job}`);
    await app.verifyJobs.get(started.body.job)!.finished;
    const done = await api(app, bearer, 'GET', `/api/audit/verify/${started.body.job}`);
    expect(done.status).toBe(200);
    return done.body;
  }

  it('runs off this thread: started, the job has read nothing yet; done, its report is the one verify gives here', async () => {
    expect(app.verifyJobs.inWorker).toBe(true);
    const job = app.verifyJobs.start({ full: true });
    // An in-thread verify would have read the whole log by now; the worker has not even started.
    expect(job).toMatchObject({ state: 'running', checked: 0, total: 0 });
    const running = await api(app, bearer, 'GET', `/api/audit/verify/${job.id}`);
    expect(running.body).toMatchObject({ job: job.id, full: true, problems: [] });
    await job.finished;
    const here = verifyLedger(db, registry);
    const done = await api(app, bearer, 'GET', `/api/audit/verify/${job.id}`);
    expect(done.body).toMatchObject({ state: 'done', ok: true, problems: [], head: here.head, events: here.events, streams: here.streams, checked: here.events, total: here.events, full: true, replayed: here.events, error: null });
    expect(done.body.documents).toBeGreaterThan(0);
  });

  it('an incremental job after it replays only what was appended; a full one on request replays everything', async () => {
    await runJob('?full=1');
    expect(await runJob('')).toMatchObject({ state: 'done', ok: true, full: false, replayed: 0 });
    const appended = appendMessages(db, app.engine, 3);
    const incremental = await runJob('');
    expect(incremental).toMatchObject({ state: 'done', ok: true, full: false, replayed: appended, head: verifyLedger(db, registry).head });
    const full = await runJob('?full=1');
    expect(full).toMatchObject({ state: 'done', ok: true, full: true, replayed: full.events });
  });

  it('compares a published head; a job like a running one joins it', async () => {
    const head = verifyLedger(db, registry).head;
    expect(await runJob(`?head=${head}`)).toMatchObject({ ok: true, problems: [] });
    const wrong = await runJob(`?head=${'ab'.repeat(32)}`);
    expect(wrong.ok).toBe(false);
    expect(wrong.problems).toEqual([expect.objectContaining({ stream: '*', kind: 'head-mismatch' })]);
    const first = app.verifyJobs.start({ full: true });
    expect(app.verifyJobs.start({ full: true })).toBe(first);
    expect(app.verifyJobs.start({ full: false })).toBe(first);
    await first.finished;
  });

  it('GET /api/audit/verify answers the full report as before, from the worker', async () => {
    const response = await api(app, bearer, 'GET', '/api/audit/verify');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, problems: [], full: true, head: verifyLedger(db, registry).head });
  });

  it('is the auditors’: a reviewer is refused, an unknown job is not found', async () => {
    const reviewer = await token(app, 'reviewer1');
    expect((await api(app, reviewer, 'POST', '/api/audit/verify')).status).toBe(403);
    expect((await api(app, reviewer, 'GET', `/api/audit/verify/${'0'.repeat(16)}`)).status).toBe(403);
    expect((await api(app, bearer, 'GET', `/api/audit/verify/${'0'.repeat(16)}`)).status).toBe(404);
    expect((await api(app, bearer, 'GET', '/api/audit/verify/not-a-job')).status).toBe(404);
  });

  it('the ledger page shows the job’s progress, polled by htmx, then its report', async () => {
    const auditor = await login(app, 'auditor1');
    const page = await auditor.get('/audit/ledger?full=1');
    expect(page.statusCode).toBe(200);
    const id = /data-job="([0-9a-f]{16})"/.exec(page.body)![1]!;
    const job = app.verifyJobs.get(id)!;
    if (page.body.includes('data-state="running"')) {
      expect(page.body).toContain(`hx-get="/audit/ledger/jobs/${id}" hx-trigger="every 1s" hx-swap="outerHTML"`);
      expect(page.body).toContain('<progress id="ledger-progress"');
      expect(page.body).toContain(`href="/audit/ledger?job=${id}"`);
    }
    await job.finished;
    const fragment = await auditor.get(`/audit/ledger/jobs/${id}`, { 'hx-request': 'true' });
    expect(fragment.body).not.toContain('<html');
    expect(fragment.body).not.toContain('hx-trigger');
    expect(fragment.body).toContain('verdict--ok');
    expect(fragment.body).toContain(`<code class="ledger-head" id="ledger-head">${job.report!.head}</code>`);
    expect(fragment.body).toContain('<dd id="ledger-mode" data-full="true">');
    // Asked again for that job, the page shows its report without starting another.
    const again = await auditor.get(`/audit/ledger?job=${id}`);
    expect(again.body).toContain(`data-job="${id}"`);
    expect(again.body).toContain('verdict--ok');
    expect((await auditor.get(`/audit/ledger/jobs/${'0'.repeat(16)}`, { 'hx-request': 'true' })).statusCode).toBe(404);
    expect((await ledgerReport(app, auditor)).body).toContain('verdict--ok');
  });
});
