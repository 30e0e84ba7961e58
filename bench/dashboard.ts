import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { openDb } from '../src/db/client.ts';
import { buildApp } from '../src/http/app.ts';
import { sessionOf } from './session.ts';

/** The page budget of the bench (issue 16): what a page may take at the 95th percentile over real HTTP. */
export const DASHBOARD_BUDGET_MS = 50;

const sorted = (samples: number[]) => [...samples].sort((a, b) => a - b);
const at = (samples: number[], p: number) => sorted(samples)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;


export interface DashboardTimes {
  /** The first request after the server started: its statements prepared, its pages of the database read for the first time. */
  first: number;
  page: number[];
  api: number[];
  /** The register's first page (issue 13): its first request (the ranking computed) and the next ones. */
  registerFirst: number;
  register: number[];
}

/** The dashboard of programme 2 over real HTTP, as coordinator1: the first request, then the page and the API again and again. */
export async function dashboardTimes(path: string, label: string): Promise<DashboardTimes> {
  const db = openDb({ path });
  const app = await buildApp({ db, rateLimitMax: 1_000_000 });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const session = await sessionOf(base, 'coordinator1');
  const signedIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'coordinator1', password: 'demo' }) });
  const bearer = `Bearer ${((await signedIn.json()) as { token: string }).token}`;
  const get = async (url: string, marker: string) => {
    const t0 = performance.now();
    const response = await fetch(`${base}${url}`, { headers: url.startsWith('/api/') ? { authorization: bearer } : { cookie: session } });
    const text = await response.text();
    const elapsed = performance.now() - t0;
    if (response.status !== 200 || !text.includes(marker)) throw new Error(`${url} answered ${response.status} without ${marker}`);
    return elapsed;
  };
  const first = await get('/programmes/2/dashboard', 'id="matrix"');
  const page: number[] = [];
  const api: number[] = [];
  for (let i = 0; i < 100; i += 1) page.push(await get('/programmes/2/dashboard', 'id="matrix"'));
  for (let i = 0; i < 100; i += 1) api.push(await get('/api/programmes/2/dashboard', '"matrix"'));
  const registerFirst = await get('/programmes/2/register', 'register-table');
  const register: number[] = [];
  for (let i = 0; i < 100; i += 1) register.push(await get('/programmes/2/register', 'register-table'));
  const line = (name: string, samples: number[]) =>
    console.log(`${name.padEnd(40)} n=${String(samples.length).padStart(4)}  p50 ${at(samples, 50).toFixed(1)} ms  p95 ${at(samples, 95).toFixed(1)} ms`);
  console.log(`GET /programmes/2/dashboard, first (${label})`.padEnd(40), `        ${first.toFixed(1)} ms`);
  line(`GET /programmes/2/dashboard (${label})`, page);
  line(`GET /api/programmes/2/dashboard (${label})`, api);
  console.log(`GET /programmes/2/register, first (${label})`.padEnd(40), `        ${registerFirst.toFixed(1)} ms  (the live ranking computed for the scores, then kept for this ledger position)`);
  line(`GET /programmes/2/register (${label})`, register);
  await app.close();
  db.$client.close();
  return { first, page, api, registerFirst, register };
}

/**
 * Adds 100 000 applications to programme 2 of a database (the queue's million-row one is reused):
 * their list rows and their stays in states — three finished (draft, submitted, under review) and
 * one running, durations spread over weeks — inserted directly, without the event chains behind
 * them, which the dashboard never reads. Indexes and triggers are dropped for the insert and made
 * again with the same statements, the counts filled as the triggers would have, then ANALYZE, as
 * the queue's bench does.
 */
export function addApplications(path: string, count = 100_000): { applications: number; stays: number; ms: number } {
  const big = new Database(path);
  big.pragma('journal_mode = OFF');
  big.pragma('synchronous = OFF');
  big.pragma('foreign_keys = OFF');
  big.pragma('cache_size = -200000');
  const started = performance.now();
  const saved = big
    .prepare<[], { name: string; type: string; sql: string }>(
      "SELECT name, type, sql FROM sqlite_master WHERE tbl_name IN ('applications', 'application_state_spells') AND type IN ('index', 'trigger') AND sql IS NOT NULL",
    )
    .all();
  for (const object of saved) big.exec(`DROP ${object.type.toUpperCase()} "${object.name}"`);
  const base = 1_000_000;
  // i % 10: 0–5 accepted, 6–8 submitted again, 9 returned; one in 20 is still a draft, one in 50 withdrawn.
  big.exec(`
    INSERT INTO applications (id, stream_id, programme_id, municipality_id, title, project_type, settlement, search, state, version,
      subsidy_kopecks, total_kopecks, awarded_kopecks, first_submitted_at, created_at, updated_at)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
    SELECT ${base} + i, 'application-' || (${base} + i), 2, (i % (SELECT count(*) FROM municipalities)) + 1, 'Проект № ' || i, 'roads', 'с. Тестовое', '',
      CASE WHEN i % 20 = 0 THEN 'draft' WHEN i % 50 = 1 THEN 'withdrawn' WHEN i % 10 < 6 THEN 'accepted' WHEN i % 10 = 9 THEN 'returned' ELSE 'submitted' END, 5,
      50000000 + (i % 997) * 100000, 80000000 + (i % 997) * 100000, NULL,
      CASE WHEN i % 20 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 60) || ' seconds') END,
      strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds'), strftime('%Y-%m-%dT%H:%M:%fZ', '2025-06-01')
    FROM n`);
  // The stays: draft → submitted → under review → (the state it is in now), each of 1–30 days.
  big.exec(`
    INSERT INTO application_state_spells (application_id, seq, programme_id, state, entered_at, left_at, duration_ms)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count}),
    stays(i, k, state, ms) AS (
      SELECT i, 1, 'draft', (1 + (i * 7919) % 30) * 86400000 - (i % 86400) * 1000 FROM n
      UNION ALL SELECT i, 3, 'submitted', (1 + (i * 104729) % 20) * 86400000 + (i % 3600) * 1000 FROM n WHERE i % 20 <> 0
      UNION ALL SELECT i, 4, 'under-review', (1 + (i * 15485863) % 15) * 86400000 + (i % 7200) * 1000 FROM n WHERE i % 20 <> 0
    )
    SELECT ${base} + s.i, s.k, 2, s.state, strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (s.i * 30 + s.k * 86400) || ' seconds'),
      CASE WHEN s.k = 1 AND s.i % 20 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (s.i * 30 + s.k * 86400) || ' seconds', '+' || (s.ms / 1000) || ' seconds') END,
      CASE WHEN s.k = 1 AND s.i % 20 = 0 THEN NULL ELSE s.ms END
    FROM stays s`);
  big.exec(`
    INSERT INTO application_state_spells (application_id, seq, programme_id, state, entered_at)
    SELECT id, 5, 2, state, '2025-06-01T00:00:00.000Z' FROM applications WHERE id > ${base} AND state <> 'draft'`);
  for (const object of saved) if (object.type === 'index') big.exec(object.sql);
  // The counts, filled as the triggers would have (migrations/0008, 0015).
  refillCounts(big);
  for (const object of saved) if (object.type === 'trigger') big.exec(object.sql);
  big.exec('ANALYZE');
  const applications = big.prepare<[], { n: number }>("SELECT count(*) AS n FROM applications WHERE programme_id = 2").get()!.n;
  const stays = big.prepare<[], { n: number }>('SELECT count(*) AS n FROM application_state_spells WHERE programme_id = 2').get()!.n;
  big.close();
  return { applications, stays, ms: performance.now() - started };
}

/**
 * The tables the triggers keep — the applications' counts, the queue's, the stays' — filled again
 * from their rows, as the triggers would have: for a database whose rows were inserted with the
 * triggers dropped (the bench's big databases).
 */
export function refillCounts(db: Database.Database): void {
  db.exec(`
    DELETE FROM application_counts;
    INSERT INTO application_counts (programme_id, municipality_id, state, count, subsidy_kopecks, awarded_kopecks, awarded_count)
      SELECT programme_id, municipality_id, state, count(*), sum(subsidy_kopecks), COALESCE(sum(awarded_kopecks), 0), count(awarded_kopecks)
      FROM applications GROUP BY programme_id, municipality_id, state;
    DELETE FROM review_queue_counts;
    INSERT INTO review_queue_counts (programme_id, lane, count) SELECT programme_id, lane, count(*) FROM review_queue WHERE lane IS NOT NULL GROUP BY programme_id, lane;
    DELETE FROM state_spell_counts;
    INSERT INTO state_spell_counts (programme_id, state, finished, running)
      SELECT programme_id, state, sum(left_at IS NOT NULL), sum(left_at IS NULL) FROM application_state_spells GROUP BY programme_id, state;
    DELETE FROM state_spell_hours;
    INSERT INTO state_spell_hours (programme_id, state, hour, count)
      SELECT programme_id, state, CASE WHEN duration_ms < 0 THEN -1 ELSE duration_ms / 3600000 END, count(*) FROM application_state_spells WHERE left_at IS NOT NULL GROUP BY 1, 2, 3;`);
}

/** The dashboard on the demo and at 100 000 applications, side by side, against the page budget. */
export async function dashboardAtScale(demoPath: string, bigPath: string): Promise<void> {
  const demo = await dashboardTimes(demoPath, 'demo');
  const added = addApplications(bigPath);
  console.log(`programme 2 with ${added.applications} applications and ${added.stays} stays, built in ${added.ms.toFixed(0)} ms (rows inserted directly, without their events)`);
  const big = await dashboardTimes(bigPath, '100 000');
  const p95 = (samples: number[]) => at(samples, 95);
  for (const [name, scaled, baseline] of [
    ['first request', big.first, demo.first],
    ['page p95', p95(big.page), p95(demo.page)],
    ['API p95', p95(big.api), p95(demo.api)],
    ['register first page p95', p95(big.register), p95(demo.register)],
    ['register first request', big.registerFirst, demo.registerFirst],
  ] as const) {
    const verdict = scaled <= DASHBOARD_BUDGET_MS ? 'within' : 'OVER';
    console.log(`  ${name.startsWith('register') ? '' : 'dashboard '}${name} at 100 000: ${scaled.toFixed(1)} ms vs ${baseline.toFixed(1)} ms on the demo — ${verdict} the page budget of ${DASHBOARD_BUDGET_MS} ms`);
  }
}
