import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { load, type LoadResult } from './load.ts';

/**
 * Durable transitions over HTTP at 50 connections (issue 18), each connection on its own draft
 * sending `update` events through the whole stack — bearer sign-in, fastify, the engine, the
 * group commit at synchronous=FULL — beside the baselines of the same run: SQLite's own
 * single-commit rate on the same disk, the same load with every write in a transaction of its
 * own (no group commit), and fastify's hello world for the pages.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const pinned = spawnSync('taskset', ['--version']).status === 0;

export interface Served {
  port: number;
  pid: number;
  stop(): Promise<string>;
}

/** Starts `bench/serve.ts` in a process of its own, on core 0 when it can, and waits for its port. */
export function serve(args: string[]): Promise<Served> {
  // BENCH_NODE_OPTIONS=--cpu-prof profiles the server under load.
  const node = [...(process.env.BENCH_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'bench/serve.ts', ...args];
  const child: ChildProcess = spawn(pinned ? 'taskset' : process.execPath, pinned ? ['-c', '0', process.execPath, ...node] : node, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench/serve.ts ${args.join(' ')} ended with ${code}: ${out}`)));
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const port = /listening (\d+)/.exec(out);
      if (port)
        resolve({
          port: Number(port[1]),
          pid: child.pid!,
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done(out.replace(/listening \d+\n?/, '').trim()));
              child.kill('SIGTERM');
            }),
        });
    });
  });
}

/** Commits a second on this disk: one small INSERT per transaction, WAL, synchronous=FULL — what one fsync a write costs. */
export function sqliteCommitRate(path: string, commits = 3000): { perSecond: number; p50: number; p99: number } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < commits; i += 1) {
    const t0 = performance.now();
    insert.run(`row ${i}`);
    samples.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  samples.sort((a, b) => a - b);
  return { perSecond: commits / seconds, p50: samples[Math.floor(commits / 2)]!, p99: samples[Math.floor(commits * 0.99)]! };
}

async function json(port: number, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.json() as Promise<Record<string, unknown>>;
}

/** 50 connections sending `update` events, each on a draft of its own, on a copy of `demoPath`. */
export async function transitionsOver(demoPath: string, copyPath: string, label: string, batch?: number, seconds = 5): Promise<LoadResult & { commits: string }> {
  for (const suffix of ['-wal', '-shm']) rmSync(copyPath + suffix, { force: true });
  copyFileSync(demoPath, copyPath);
  const server = await serve(['app', copyPath, ...(batch ? [String(batch)] : [])]);
  try {
    const { token } = (await json(server.port, 'POST', '/api/session', { login: 'applicant1', password: 'demo' })) as { token: string };
    const authorization = `Bearer ${token}`;
    const connections = 50;
    const drafts: { id: number; version: number }[] = [];
    for (let c = 0; c < connections; c += 1) {
      const created = await json(server.port, 'POST', '/api/applications', { programmeId: 2, title: `Нагрузка ${label} ${c}` }, { authorization });
      drafts.push({ id: created.id as number, version: created.version as number });
    }
    let n = 0;
    const result = await load({
      port: server.port,
      connections,
      seconds,
      next: (c, last) => {
        const draft = drafts[c]!;
        if (last !== null) {
          const answer = JSON.parse(last) as { version?: number; current?: { version: number } };
          draft.version = answer.version ?? answer.current?.version ?? draft.version;
        }
        n += 1;
        return { method: 'POST', path: `/api/applications/${draft.id}/events`, headers: { authorization }, body: JSON.stringify({ type: 'update', expectedVersion: draft.version, beneficiaries: n % 5000 }) };
      },
    });
    return { ...result, commits: await server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
