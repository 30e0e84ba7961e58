import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { load, type LoadRequest, type LoadResult } from './load.ts';
import { serve, sqliteCommitRate, transitionsOver } from './transitions.ts';
import { sessionOf } from './session.ts';

/**
 * Throughput over real HTTP at 50 connections (issue 18), the server in a process of its own:
 * durable transitions beside SQLite's single-commit rate on the same disk and beside the same load
 * without group commit; the queue page, an application page and a public page beside fastify's
 * hello world; the server's memory over a sustained load. Each figure with its baseline of the
 * same run and the ratio.
 */
export interface Figure {
  perSecond: number;
  p50: number;
  p99: number;
}

const figure = (result: LoadResult): Figure => ({ perSecond: result.perSecond, p50: result.p50, p99: result.p99 });
const line = (name: string, f: Figure, extra = '') =>
  console.log(`${name.padEnd(46)} ${f.perSecond.toFixed(0).padStart(7)}/s  p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99.toFixed(2).padStart(7)} ms${extra}`);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function expectOnly(result: LoadResult, status: number, what: string): void {
  const other = Object.entries(result.statuses).filter(([code]) => Number(code) !== status);
  if (other.length > 0) throw new Error(`${what}: answers other than ${status}: ${JSON.stringify(result.statuses)}`);
}

/** Copies a database file (its WAL checkpointed by the caller) to a path of its own, without stale -wal/-shm beside it. */
export function copyDatabase(from: string, to: string): void {
  for (const suffix of ['-wal', '-shm']) rmSync(to + suffix, { force: true });
  copyFileSync(from, to);
}

export async function transitionFigures(demoPath: string, dir: string, seconds: number) {
  const sqlite = sqliteCommitRate(join(dir, 'commit-rate.sqlite'));
  const grouped = await transitionsOver(demoPath, join(dir, 'transitions.sqlite'), 'group', undefined, seconds);
  expectOnly(grouped, 200, 'transitions');
  const single = await transitionsOver(demoPath, join(dir, 'transitions-single.sqlite'), 'single', 1, seconds);
  expectOnly(single, 200, 'transitions without group commit');
  console.log('durable transitions over HTTP, 50 connections, each on its own draft (update events, synchronous=FULL):');
  line('  SQLite single commits on this disk (baseline)', { perSecond: sqlite.perSecond, p50: sqlite.p50, p99: sqlite.p99 });
  line('  with group commit', figure(grouped), `  ${ratio(grouped.perSecond, sqlite.perSecond)} the single-commit rate`);
  console.log(`    ${grouped.commits}`);
  line('  every write its own transaction', figure(single), `  ${ratio(single.perSecond, sqlite.perSecond)} the single-commit rate`);
  console.log(`  group commit: ${ratio(grouped.perSecond, single.perSecond)} the throughput of a transaction per write; target ≥ 1.5× the single-commit rate, p99 ≤ 20 ms`);
  return { sqliteCommits: sqlite, groupCommit: figure(grouped), transactionPerWrite: figure(single), ratioToSqlite: grouped.perSecond / sqlite.perSecond };
}

/** GETs of one path at 50 connections for `seconds`, all answered 200. */
async function pageLoad(port: number, path: string, seconds: number, headers: Record<string, string> = {}, status = 200): Promise<Figure> {
  const result = await load({ port, connections: 50, seconds, next: () => ({ method: 'GET', path, headers }) });
  expectOnly(result, status, path);
  return figure(result);
}

export interface PageTargets {
  queue: string;
  application: string;
  /** A page anyone may open, when the database has one. */
  public: string | null;
  /** The rest of the public portal (issue 15): its pages and JSON twins, signed out; the first is also asked for conditionally. */
  portal?: string[];
}

export async function pageFigures(dbPath: string, label: string, targets: PageTargets, seconds: number, hello?: Figure) {
  let baseline = hello;
  if (!baseline) {
    const server = await serve(['hello']);
    baseline = await pageLoad(server.port, '/', seconds);
    await server.stop();
  }
  const server = await serve(['app', dbPath]);
  try {
    const cookie = await sessionOf(`http://127.0.0.1:${server.port}`, 'reviewer1');
    console.log(`pages over HTTP, 50 connections (${label}):`);
    line('  fastify hello world (baseline)', baseline);
    const queue = await pageLoad(server.port, targets.queue, seconds, { cookie });
    line(`  ${targets.queue} (reviewer1)`, queue, `  ${ratio(queue.perSecond, baseline.perSecond)} hello world`);
    const application = await pageLoad(server.port, targets.application, seconds, { cookie });
    line(`  ${targets.application} (reviewer1)`, application, `  ${ratio(application.perSecond, baseline.perSecond)} hello world`);
    let open: Figure | null = null;
    if (targets.public) {
      open = await pageLoad(server.port, targets.public, seconds);
      line(`  ${targets.public} (public, signed out)`, open, `  ${ratio(open.perSecond, baseline.perSecond)} hello world`);
    }
    const portal: Record<string, Figure> = {};
    for (const path of targets.portal ?? []) {
      portal[path] = await pageLoad(server.port, path, seconds);
      line(`  ${path} (public, signed out)`, portal[path]!, `  ${ratio(portal[path]!.perSecond, baseline.perSecond)} hello world`);
    }
    let conditional: Figure | null = null;
    const first = targets.portal?.[0];
    if (first) {
      // A cache revalidating: the ETag it holds is current, so the answer is a 304 after the ledger lookup.
      const etag = (await fetch(`http://127.0.0.1:${server.port}${first}`)).headers.get('etag')!;
      conditional = await pageLoad(server.port, first, seconds, { 'if-none-match': etag }, 304);
      line(`  ${first} If-None-Match → 304`, conditional, `  ${ratio(conditional.perSecond, portal[first]!.perSecond)} the full page, ${ratio(conditional.perSecond, baseline.perSecond)} hello world`);
    }
    console.log('  target: queue and application pages ≥ 2 000/s, p99 ≤ 10 ms');
    return { hello: baseline, queue, application, public: open, portal, conditional };
  } finally {
    await server.stop();
  }
}

/** Resident memory of a process (Linux /proc), in MiB; NaN elsewhere. */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** The server's resident memory under `seconds` of sustained load (writes and pages mixed), sampled each second. */
export async function memoryUnderLoad(demoPath: string, dir: string, seconds: number) {
  const path = join(dir, 'sustained.sqlite');
  copyDatabase(demoPath, path);
  const server = await serve(['app', path]);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const cookie = await sessionOf(base, 'reviewer1');
    const signedIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'applicant1', password: 'demo' }) });
    const authorization = `Bearer ${((await signedIn.json()) as { token: string }).token}`;
    const drafts: { id: number; version: number }[] = [];
    for (let c = 0; c < 25; c += 1) {
      const created = await fetch(`${base}/api/applications`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ programmeId: 2, title: `Память ${c}` }) });
      const body = (await created.json()) as { id: number; version: number };
      drafts.push({ id: body.id, version: body.version });
    }
    const samples: number[] = [];
    const timer = setInterval(() => samples.push(rssOf(server.pid)), 1000);
    const result = await load({
      port: server.port,
      connections: 50,
      seconds,
      warmup: 2,
      next: (c, last): LoadRequest => {
        if (c % 2 === 1) return { method: 'GET', path: c % 4 === 1 ? '/queue' : `/applications/${(c % 60) + 1}`, headers: { cookie } };
        const draft = drafts[c / 2]!;
        if (last !== null) {
          const answer = JSON.parse(last) as { version?: number; current?: { version: number } };
          draft.version = answer.version ?? answer.current?.version ?? draft.version;
        }
        return { method: 'POST', path: `/api/applications/${draft.id}/events`, headers: { authorization }, body: JSON.stringify({ type: 'update', expectedVersion: draft.version, beneficiaries: draft.version }) };
      },
    });
    clearInterval(timer);
    expectOnly(result, 200, 'sustained load');
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
    // The first samples include the warm-up; the start is the second tenth of the run.
    const early = mean(samples.slice(tenth, 2 * tenth));
    const late = mean(samples.slice(-tenth));
    console.log(`server memory over ${seconds} s of sustained load (${result.perSecond.toFixed(0)} requests/s, writes and pages): rss ${early.toFixed(0)} MiB early, ${late.toFixed(0)} MiB at the end (${ratio(late, early)}), highest ${Math.max(...samples).toFixed(0)} MiB — target flat within ±10 %`);
    return { seconds, requestsPerSecond: result.perSecond, rssEarlyMiB: early, rssLateMiB: late, rssMaxMiB: Math.max(...samples), ratio: late / early };
  } finally {
    await server.stop();
  }
}
