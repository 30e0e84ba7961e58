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
import { verifyLedger } from '../src/engine/replay.ts';
import { Engine } from '../src/engine/engine.ts';
import { createApplication, installApplicationHooks, sendApplicationEvent } from '../src/engine/applications.ts';
import { defaultRegistry } from '../machines/registry.ts';
import { users } from '../src/db/schema.ts';
import { sql } from 'drizzle-orm';
import type { Actor, Role } from '../src/domain/roles.ts';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
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

  const actorOf = (login: string): Actor => {
    const row = db.select().from(users).where(sql`${users.login} = ${login}`).get()!;
    return { id: row.id, login: row.login, name: row.name, role: row.role as Role, municipalityId: row.municipalityId };
  };
  const engine = new Engine(db);
  installApplicationHooks(engine);
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

  // The queue page, through fastify, eta and the prepared list query.
  const app = await buildApp({ db, rateLimitMax: 1_000_000 });
  const login = await app.inject({ method: 'GET', url: '/login' });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const cookies = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const signedIn = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' },
    payload: `_csrf=${encodeURIComponent(csrf)}&login=reviewer1&password=demo`,
  });
  const session = signedIn.cookies.find((c) => c.name === 'sid')!;
  const queueSamples: number[] = [];
  for (let i = 0; i < 500; i += 1) {
    const t0 = performance.now();
    const response = await app.inject({ method: 'GET', url: '/queue', headers: { cookie: `sid=${session.value}` } });
    if (response.statusCode !== 200) throw new Error(`queue answered ${response.statusCode}`);
    queueSamples.push(performance.now() - t0);
  }
  report('GET /queue (20 rows, full page)', queueSamples);
  const listSamples: number[] = [];
  for (let i = 0; i < 500; i += 1) {
    const t0 = performance.now();
    await app.inject({ method: 'GET', url: '/applications', headers: { cookie: `sid=${session.value}`, 'hx-request': 'true' } });
    listSamples.push(performance.now() - t0);
  }
  report('GET /applications (50 rows, htmx)', listSamples);
  await app.close();

  started = performance.now();
  const verified = verifyLedger(db, defaultRegistry());
  console.log(`verify: ${verified.streams} streams, ${verified.events} events, ok=${verified.ok}   ${(performance.now() - started).toFixed(0)} ms`);
  console.log(`memory: rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB, heap ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB`);
  db.$client.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
