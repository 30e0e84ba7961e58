/**
 * `npm run bench`: the hot paths of DESIGN §4.8 on this machine — the write path (apply) on a
 * durable file database, the queue page through the whole HTTP stack (on the demo and at a million
 * applications), the coordinator's dashboard (on the demo and at 100 000 applications, in the
 * queue's million-row database), verify over the demo (full and incremental), and a write's wait
 * while verify runs in a worker thread.
 * It reports numbers; no test depends on them.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDb } from '../src/db/client.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { buildApp } from '../src/http/app.ts';
import { workflowEngine } from '../src/workflows/index.ts';
import { defaultRegistry } from '../machines/registry.ts';
import { users } from '../src/db/schema.ts';
import { sql } from 'drizzle-orm';
import type { Actor, Role } from '../src/domain/roles.ts';
import { saveCheckpoints, verifyLedger, verifyWithCheckpoints } from '../src/engine/verify.ts';
import { VerifyJobs } from '../src/audit/verify-jobs.ts';
import { DocumentStore, documentsDirFor } from '../src/workflows/documents/store.ts';
import { createApplication, sendApplicationEvent } from '../src/workflows/application/commands.ts';
import { dashboardAtScale } from './dashboard.ts';
import { sessionOf } from './session.ts';
import { copyDatabase, memoryUnderLoad, pageFigures, transitionFigures, type Figure } from './throughput.ts';
import { portalPaths, publicPath, scaleApplications } from './scale.ts';
import { verifySpeed } from './verify-figures.ts';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Resident and heap memory now, and the highest resident size so far (ru_maxrss, KiB on Linux). */
function memory(after: string) {
  const { rss, heapUsed } = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS;
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  console.log(`  memory after ${after.padEnd(22)} rss ${mib(rss)} MiB, heap ${mib(heapUsed)} MiB, peak rss ${mib(peak * 1024)} MiB`);
}

/** Every figure of the run, written as JSON at the end (`--json <file>`, bench-results.json by default). */
const figures: Record<string, unknown> = { at: new Date().toISOString(), node: process.version };

function report(name: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  figures[name] = { n: samples.length, meanMs: mean, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), p99Ms: percentile(sorted, 99), perSecond: 1000 / mean };
  console.log(
    `${name.padEnd(34)} n=${String(samples.length).padStart(5)}  mean ${mean.toFixed(3)} ms  p50 ${percentile(sorted, 50).toFixed(3)} ms  p95 ${percentile(sorted, 95).toFixed(3)} ms  → ${(1000 / mean).toFixed(0)}/s`,
  );
}

/** How long a write may wait while a whole-ledger verify runs (issue 17). */
const WRITE_WAIT_BUDGET_MS = 50;
/** The ledger's size for that figure: the one the issue measured. */
const LIVE_LEDGER_EVENTS = 17_245;

/** What a queue page may take at the 95th percentile, over real HTTP on this machine (issue 16). */
const QUEUE_PAGE_BUDGET_MS = 50;


/** The queue's first page and a deep keyset page over HTTP: samples in ms. */
async function queuePages(path: string, label: string, deepRank: number): Promise<{ first: number[]; deep: number[] }> {
  const db = openDb({ path });
  const app = await buildApp({ db, rateLimitMax: 1_000_000 });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const session = await sessionOf(base, 'reviewer1');
  const me = db.$client.prepare<[], { id: number }>("SELECT id FROM users WHERE login = 'reviewer1'").get()!.id;
  // The row `deepRank` places down the reviewer's tab, oldest waiting first: where a deep page starts.
  const after = db.$client
    .prepare<[string, number], { id: number }>('SELECT application_id AS id FROM review_queue WHERE programme_id = 2 AND lane = ? ORDER BY waiting_since, application_id LIMIT 1 OFFSET ?')
    .get(`r:${me}`, deepRank)!.id;
  const get = async (url: string) => {
    const t0 = performance.now();
    const response = await fetch(`${base}${url}`, { headers: { cookie: session } });
    const html = await response.text();
    if (response.status !== 200 || !html.includes('table class="data queue"')) throw new Error(`${url} answered ${response.status} without the queue`);
    return performance.now() - t0;
  };
  const first: number[] = [];
  const deep: number[] = [];
  for (let i = 0; i < 200; i += 1) first.push(await get('/queue?programmeId=2&tab=mine'));
  for (let i = 0; i < 200; i += 1) deep.push(await get(`/queue?programmeId=2&tab=mine&after=${after}`));
  report(`GET /queue mine, first page (${label})`, first);
  report(`GET /queue mine, row ${deepRank} on (${label})`, deep);
  await app.close();
  db.$client.close();
  return { first, deep };
}

/**
 * The review queue at a million applications (issue 16): the demo's database with a million rows
 * of the queue's projection inserted directly — no event chains behind them, which the queue never
 * reads — 400 000 of them waiting in its lanes (100 000 in reviewer1's "mine"). Its indexes are
 * dropped for the insert and built again after it, with the same statements, and the counts filled
 * as the triggers would have. The same pages on the demo itself are the baseline of the same run.
 */
async function queueAtAMillion(demoPath: string, bigPath: string): Promise<void> {
  const baseline = await queuePages(demoPath, 'demo', 2);
  const source = new Database(demoPath);
  source.pragma('wal_checkpoint(TRUNCATE)');
  source.close();
  copyFileSync(demoPath, bigPath);
  const big = new Database(bigPath);
  big.pragma('journal_mode = OFF');
  big.pragma('synchronous = OFF');
  big.pragma('foreign_keys = OFF');
  big.pragma('cache_size = -200000');
  const started = performance.now();
  const me = big.prepare<[], { id: number }>("SELECT id FROM users WHERE login = 'reviewer1'").get()!.id;
  const other = big.prepare<[], { id: number }>("SELECT id FROM users WHERE login = 'reviewer2'").get()!.id;
  const saved = big.prepare<[], { name: string; type: string; sql: string }>("SELECT name, type, sql FROM sqlite_master WHERE tbl_name = 'review_queue' AND type IN ('index', 'trigger') AND sql IS NOT NULL").all();
  for (const object of saved) big.exec(`DROP ${object.type.toUpperCase()} "${object.name}"`);
  big.exec(`
    INSERT INTO review_queue (application_id, programme_id, lane, state, version, state_rank, title, title_key, municipality_id, municipality_name, municipality_key,
      assignee_id, assignee_name, assignee_key, first_submitted_at, waiting_since)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
    SELECT 1000000 + i, 2,
      CASE i % 10 WHEN 6 THEN 'r:${me}' WHEN 7 THEN 'r:${other}' WHEN 8 THEN 'r:0' WHEN 9 THEN 'a' END,
      CASE WHEN i % 10 < 6 THEN 'accepted' WHEN i % 10 = 9 THEN 'returned' ELSE 'submitted' END, 5,
      CASE WHEN i % 10 < 6 THEN 4 WHEN i % 10 = 9 THEN 3 ELSE 1 END,
      'Проект № ' || i, 'проект № ' || i, m.id, m.name, m.name,
      CASE i % 10 WHEN 6 THEN ${me} WHEN 7 THEN ${other} END, '', '',
      strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i / 3) || ' seconds'),
      strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || ((i * 7919) % 31536000) || ' seconds')
    FROM n JOIN municipalities m ON m.id = (n.i % (SELECT count(*) FROM municipalities)) + 1`);
  for (const object of saved) if (object.type === 'index') big.exec(object.sql);
  big.exec('DELETE FROM review_queue_counts; INSERT INTO review_queue_counts (programme_id, lane, count) SELECT programme_id, lane, count(*) FROM review_queue WHERE lane IS NOT NULL GROUP BY programme_id, lane');
  for (const object of saved) if (object.type === 'trigger') big.exec(object.sql);
  big.exec('ANALYZE');
  const rows = big.prepare<[], { n: number }>('SELECT count(*) AS n FROM review_queue').get()!.n;
  big.close();
  console.log(`queue projection with ${rows} rows built in ${(performance.now() - started).toFixed(0)} ms (rows inserted directly, without their events)`);
  const million = await queuePages(bigPath, '1 000 000', 50_000);
  const p95 = (samples: number[]) => percentile([...samples].sort((a, b) => a - b), 95);
  for (const [name, samples, base] of [['first page', million.first, baseline.first], ['deep page', million.deep, baseline.deep]] as const) {
    const verdict = p95(samples) <= QUEUE_PAGE_BUDGET_MS ? 'within' : 'OVER';
    console.log(`  queue ${name} at a million: p95 ${p95(samples).toFixed(1)} ms vs ${p95(base).toFixed(1)} ms on the demo — ${verdict} the page budget of ${QUEUE_PAGE_BUDGET_MS} ms`);
  }
  memory('the queue at a million');
}

/** `--name value` from the command line. */
function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const loadSeconds = Number(option('seconds') ?? 5);
const sustainSeconds = Number(option('sustain') ?? 60);
const scale = option('scale') === undefined ? null : Number(option('scale'));
const jsonPath = option('json') ?? 'bench-results.json';

const dir = mkdtempSync(join(tmpdir(), 'isu-ib-bench-'));
try {
  const db = openDb({ path: join(dir, 'bench.sqlite') });
  let started = performance.now();
  await seedDemo(db);
  console.log(`seed of the demo (synchronous=FULL)      ${(performance.now() - started).toFixed(0)} ms`);
  memory('the seed');

  // Throughput at 50 connections (issue 18), the server in a process of its own, on copies of the demo.
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  const demoPath = join(dir, 'demo.sqlite');
  copyDatabase(join(dir, 'bench.sqlite'), demoPath);
  figures.transitions = await transitionFigures(demoPath, dir, loadSeconds);
  const pagesPath = join(dir, 'pages.sqlite');
  copyDatabase(demoPath, pagesPath);
  const publicPage = await publicPath(pagesPath);
  const portal = await portalPaths(pagesPath);
  figures.pages = await pageFigures(pagesPath, 'demo', { queue: '/queue', application: '/applications/5', public: publicPage, portal }, loadSeconds);
  if (scale !== null) {
    const scaledPath = join(dir, 'scaled.sqlite');
    const built = scaleApplications(demoPath, scaledPath, scale);
    figures.scaled = { ...built, pages: await pageFigures(scaledPath, `${built.applications} applications`, { queue: '/queue', application: `/applications/${built.deepApplication}`, public: publicPage }, loadSeconds, (figures.pages as { hello: Figure }).hello) };
  }
  figures.memory = await memoryUnderLoad(demoPath, dir, sustainSeconds);

  const actorOf = (login: string): Actor => {
    const row = db.select().from(users).where(sql`${users.login} = ${login}`).get()!;
    return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
  };
  const engine = workflowEngine(db);
  const applicant = actorOf('applicant1');

  // apply: one update event per transaction, each fsynced (WAL, synchronous=FULL).
  const created = createApplication(engine, applicant, { programmeId: 2, form: { title: 'Бенчмарк' } });
  let version = created.version;
  const applySamples: number[] = [];
  for (let i = 0; i < 2000; i += 1) {
    const t0 = performance.now();
    version = sendApplicationEvent(engine, applicant, created.id, 'update', { beneficiaries: i }, version).version;
    applySamples.push(performance.now() - t0);
  }
  report('apply (update, durable)', applySamples);
  memory('2000 applies');

  // The pages over real HTTP on the loopback: fastify, eta and the prepared list queries. (Not
  // `inject`: light-my-request keeps every injected request alive until the app closes, which
  // would be measured as our memory.)
  const app = await buildApp({ db, rateLimitMax: 1_000_000 });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const session = await sessionOf(base, 'reviewer1');
  memory('app and login');
  const page = async (url: string, headers: Record<string, string> = {}) => {
    const t0 = performance.now();
    const response = await fetch(`${base}${url}`, { headers: { cookie: session, ...headers } });
    await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return performance.now() - t0;
  };
  const queueSamples: number[] = [];
  for (let i = 0; i < 500; i += 1) queueSamples.push(await page('/queue'));
  report('GET /queue (20 rows, full page)', queueSamples);
  memory('500 queue pages');
  const listSamples: number[] = [];
  for (let i = 0; i < 500; i += 1) listSamples.push(await page('/applications', { 'hx-request': 'true' }));
  report('GET /applications (50 rows, htmx)', listSamples);
  const applicationSamples: number[] = [];
  for (let i = 0; i < 300; i += 1) applicationSamples.push(await page(`/applications/${(i % 60) + 1}`));
  report('GET /applications/:id (whole page)', applicationSamples);
  memory('1300 pages');
  await app.close();

  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  await queueAtAMillion(join(dir, 'bench.sqlite'), join(dir, 'million.sqlite'));
  // The dashboard (issue 13): the same million-row database, with 100 000 applications added to programme 2.
  await dashboardAtScale(join(dir, 'bench.sqlite'), join(dir, 'million.sqlite'));
  memory('the dashboard at 100 000');

  started = performance.now();
  const verified = verifyLedger(db, defaultRegistry());
  console.log(`verify: ${verified.streams} streams, ${verified.events} events, ok=${verified.ok}   ${(performance.now() - started).toFixed(0)} ms`);
  memory('verify');
  const eventCount = () => db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').pluck(false).get()!.n;
  started = performance.now();
  const incremental = verifyWithCheckpoints(db, defaultRegistry(), { incremental: true });
  console.log(`verify, incremental without checkpoints: ${incremental.report.replayed} events replayed   ${(performance.now() - started).toFixed(0)} ms`);
  saveCheckpoints(db, incremental.checkpoints);
  sendApplicationEvent(engine, applicant, created.id, 'update', { beneficiaries: 1 }, version);
  version += 1;
  started = performance.now();
  const again = verifyLedger(db, defaultRegistry(), { incremental: true });
  console.log(`verify, incremental after one write: ${again.replayed} event(s) replayed of ${again.events}   ${(performance.now() - started).toFixed(0)} ms`);

  // A write's wait while whole-ledger verifies run in a worker thread (issue 17): the same durable
  // writes on the server's thread, first alone, then while full verify jobs run one after another,
  // on a ledger grown to the size the issue measured (17 245 events: 2.6 s held by an in-thread verify).
  started = performance.now();
  db.$client.pragma('synchronous = OFF');
  for (let a = 0; eventCount() < LIVE_LEDGER_EVENTS; a += 1) {
    const grown = createApplication(engine, applicant, { programmeId: 2, form: { title: `Объём ${a}` } });
    let v = grown.version;
    for (let i = 0; i < 200; i += 1) v = sendApplicationEvent(engine, applicant, grown.id, 'update', { beneficiaries: i }, v).version;
  }
  db.$client.pragma('synchronous = FULL');
  started = performance.now() - started;
  const inThread = performance.now();
  const whole = verifyLedger(db, defaultRegistry());
  console.log(`ledger grown to ${whole.events} events in ${started.toFixed(0)} ms; a whole-ledger verify on the server's thread takes ${(performance.now() - inThread).toFixed(0)} ms (what a write waited before issue 17)`);
  // Verify in events a second (issue 18.4), beside reading the same rows and sha256 of the same bytes, on this ledger.
  verifySpeed(db, 3);
  const writeOnce = () => {
    const t0 = performance.now();
    version = sendApplicationEvent(engine, applicant, created.id, 'update', { beneficiaries: version }, version).version;
    return performance.now() - t0;
  };
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const WRITES = 1000;
  const alone: number[] = [];
  for (let i = 0; i < WRITES; i += 1) {
    alone.push(writeOnce());
    await turn();
  }
  const jobs = new VerifyJobs(db, defaultRegistry(), new DocumentStore(documentsDirFor(db)));
  const during: number[] = [];
  let verifies = 0;
  let verifyMs = 0;
  while (during.length < WRITES) {
    const job = jobs.start({ full: true });
    const t0 = performance.now();
    // Only the writes made while the job runs (its worker has the log open in a snapshot) count.
    while (job.state === 'running' && during.length < WRITES) {
      const wait = writeOnce();
      if (job.state === 'running') during.push(wait);
      await turn();
    }
    await job.finished;
    if (job.state !== 'done' || !job.report?.ok) throw new Error(`the verify job ended ${job.state}: ${job.error ?? JSON.stringify(job.report?.problems.slice(0, 3))}`);
    verifies += 1;
    verifyMs += performance.now() - t0;
  }
  await jobs.close();
  const spread = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
  };
  const quiet = spread(alone);
  const busy = spread(during);
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`a concurrent write's wait while a whole-ledger verify runs (${verifies} full verifies in a worker, ${(verifyMs / verifies).toFixed(0)} ms each, ${during.length} writes):`);
  console.log(`  during verify  p50 ${ms(busy.p50)}  p99 ${ms(busy.p99)}  max ${ms(busy.max)}`);
  console.log(`  without verify p50 ${ms(quiet.p50)}  p99 ${ms(quiet.p99)}  max ${ms(quiet.max)}  (the same writes, the baseline)`);
  const verdict = busy.max <= WRITE_WAIT_BUDGET_MS ? 'within' : 'OVER';
  console.log(`  ratio p50 ${(busy.p50 / quiet.p50).toFixed(2)}×  p99 ${(busy.p99 / quiet.p99).toFixed(2)}×  — max ${ms(busy.max)}: ${verdict} the budget of ${WRITE_WAIT_BUDGET_MS} ms`);
  memory('writes during verify');
  figures.writeWaitDuringVerify = { quiet, busy, verifies, budgetMs: WRITE_WAIT_BUDGET_MS };
  db.$client.close();
  writeFileSync(jsonPath, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`the figures as JSON: ${jsonPath}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
