import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { VerifyJobs, type VerifyJob } from '../../src/audit/verify-jobs.ts';
import { DocumentStore, documentsDirFor } from '../../src/workflows/documents/store.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { demoFiles } from '../demo-template.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const WRITERS = 4;
const WRITE_MS = 10_000;

/**
 * A writer in a process of its own, on its own connection: messages on the demo's applications,
 * each one a transaction of the engine, the first on an application a new stream — as long as it
 * is told to, then it says how many it wrote.
 */
function writerScript(dir: string): string {
  const script = join(dir, 'writer.mjs');
  const url = (file: string) => pathToFileURL(join(root, file)).href;
  writeFileSync(
    script,
    `
const { openDb } = await import(${JSON.stringify(url('src/db/client.ts'))});
const { workflowEngine } = await import(${JSON.stringify(url('src/workflows/index.ts'))});
const { postMessage } = await import(${JSON.stringify(url('src/workflows/conversation/commands.ts'))});
const [dbPath, writer, ms] = process.argv.slice(2);
const db = openDb({ path: dbPath });
// Five processes and the verify jobs share two cores with other work: a writer waits its turn longer than the server's 5 s.
db.$client.pragma('busy_timeout = 20000');
const engine = workflowEngine(db);
const row = db.$client.prepare("SELECT * FROM users WHERE login = 'coordinator1'").get();
const actor = { id: row.id, login: row.login, name: row.name, role: row.role, municipalityId: row.municipality_id };
const ids = db.$client.prepare("SELECT id FROM applications WHERE state <> 'draft' ORDER BY id").all().map((r) => r.id);
const until = Date.now() + Number(ms);
let written = 0;
for (let i = Number(writer); Date.now() < until; i += ${WRITERS}) {
  postMessage(engine, actor, ids[i % ids.length], { text: 'Сообщение ' + writer + '-' + i });
  written += 1;
}
db.$client.close();
process.stdout.write(JSON.stringify({ written }) + '\\n');
`,
  );
  return script;
}

function runWriter(script: string, path: string, writer: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, path, String(writer), String(WRITE_MS)], { cwd: root });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`writer ${writer} exited ${code}: ${err}${out}`));
      else resolve((JSON.parse(last) as { written: number }).written);
    });
  });
}

describe('verify on a live system', () => {
  it(`reads one snapshot: while ${WRITERS} writers write for ${WRITE_MS / 1000} s, every verify (jobs in a worker, full and incremental, and here) is ok, and the last one sees all they wrote`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isu-verify-live-'));
    dirs.push(dir);
    const path = await demoFiles(dir);
    const db = openDb({ path });
    const registry = defaultRegistry();
    const before = verifyLedger(db, registry);
    expect(before.ok).toBe(true);
    const jobs = new VerifyJobs(db, registry, new DocumentStore(documentsDirFor(db)));
    expect(jobs.inWorker).toBe(true);

    const script = writerScript(dir);
    const writers = Promise.all(Array.from({ length: WRITERS }, (_, i) => runWriter(script, path, i)));
    let finished = false;
    void writers.finally(() => (finished = true)).catch(() => undefined);
    // The job path, as the server runs it: one job after another in a worker thread, full and
    // incremental by turns (the incremental ones from the checkpoints the ones before saved)…
    const done: VerifyJob[] = [];
    const loopJobs = async () => {
      for (let i = 0; !finished; i += 1) done.push(await jobs.start({ full: i % 2 === 0 }).finished);
    };
    // …and beside it the in-thread verify, between the event loop's turns.
    const reports: ReturnType<typeof verifyLedger>[] = [];
    const loopHere = async () => {
      while (!finished) {
        reports.push(verifyLedger(db, registry, { incremental: reports.length % 2 === 1 }));
        // Let the writers' exits and the worker's messages be seen.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all([loopJobs(), loopHere()]);
    const written = (await writers).reduce((sum, n) => sum + n, 0);
    await jobs.close();

    expect(written).toBeGreaterThan(WRITERS);
    expect(done.map((job) => job.error)).toEqual(done.map(() => null));
    expect(done.filter((job) => job.full).length).toBeGreaterThan(0);
    expect(done.filter((job) => !job.full).length).toBeGreaterThan(0);
    // They really ran beside the writers: verifies that saw different lengths of the log.
    expect(new Set(done.map((job) => job.report!.events)).size).toBeGreaterThan(1);
    expect(new Set(reports.map((r) => r.events)).size).toBeGreaterThan(1);
    expect(done.flatMap((job) => job.report!.problems)).toEqual([]);
    expect(reports.flatMap((r) => r.problems)).toEqual([]);
    // An incremental job replayed less than the whole log: it started from the checkpoints.
    expect(done.some((job) => !job.full && job.report!.replayed < job.report!.events)).toBe(true);
    const after = verifyLedger(db, registry);
    // A first message on an application opens its conversation stream too: at least one event each.
    expect(after.ok).toBe(true);
    expect(after.events).toBeGreaterThanOrEqual(before.events + written);
    expect(verifyLedger(db, registry, { incremental: true })).toMatchObject({ ok: true, head: after.head });
    db.$client.close();
  }, 120_000);
});
