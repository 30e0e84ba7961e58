/**
 * `npm run bench`: the hot paths of DESIGN §4.8 on this machine — the write path (apply) on a
 * durable file database, the queue page through the whole HTTP stack, and verify over the demo.
 * It reports numbers; no test depends on them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import { verifyLedger } from '../src/engine/verify.ts';
import { createApplication, sendApplicationEvent } from '../src/workflows/application/commands.ts';

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

function report(name: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(
    `${name.padEnd(34)} n=${String(samples.length).padStart(5)}  mean ${mean.toFixed(3)} ms  p50 ${percentile(sorted, 50).toFixed(3)} ms  p95 ${percentile(sorted, 95).toFixed(3)} ms  → ${(1000 / mean).toFixed(0)}/s`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'isu-ib-bench-'));
try {
  const db = openDb({ path: join(dir, 'bench.sqlite') });
  let started = performance.now();
  await seedDemo(db);
  console.log(`seed of the demo (synchronous=FULL)      ${(performance.now() - started).toFixed(0)} ms`);
  memory('the seed');

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
  const cookiesOf = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const loginPage = await fetch(`${base}/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
  const signedIn = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookiesOf(loginPage).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${encodeURIComponent(csrf)}&login=reviewer1&password=demo`,
  });
  const session = cookiesOf(signedIn).find((c) => c.startsWith('sid='))!;
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

  started = performance.now();
  const verified = verifyLedger(db, defaultRegistry());
  console.log(`verify: ${verified.streams} streams, ${verified.events} events, ok=${verified.ok}   ${(performance.now() - started).toFixed(0)} ms`);
  memory('verify');
  db.$client.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
