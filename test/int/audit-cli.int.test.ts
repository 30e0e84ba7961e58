import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client.ts';
import { demoFiles } from '../demo-template.ts';

/**
 * `npm run verify` and `npm run replay` from the shell (issue 4, point 3): their output and exit
 * codes on a clean database and on tampered copies of it.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let clean: string;
let closed: { id: number; version: number };
let other: { id: number; version: number };

function run(script: 'verify' | 'replay', database: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { cwd: root, env: { ...process.env, DATABASE_PATH: database }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function tamperedCopy(name: string, sql: string, ...params: unknown[]): string {
  const path = join(dir, name);
  copyFileSync(clean, path);
  const db = openDb({ path, synchronous: 'OFF' });
  db.$client.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
  db.$client.prepare(sql).run(...params);
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isu-ib-cli-'));
  clean = await demoFiles(dir, { now: '2027-05-20T09:00:00.000Z', name: 'clean.sqlite' });
  const db = openDb({ path: clean, synchronous: 'OFF' });
  closed = db.$client.prepare<[], { id: number; version: number }>("SELECT id, version FROM applications WHERE state = 'closed' ORDER BY version DESC, id LIMIT 1").get()!;
  other = db.$client.prepare<[number], { id: number; version: number }>('SELECT id, version FROM applications WHERE id <> ? ORDER BY id LIMIT 1').get(closed.id)!;
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('on a clean database', () => {
  it('verify prints the streams, events and head and exits 0', async () => {
    const { code, stdout } = await run('verify', clean);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^streams: \d+$/m);
    expect(stdout).toMatch(/^events: +\d+$/m);
    expect(stdout).toMatch(/^head: +[0-9a-f]{64}$/m);
    expect(stdout).toContain('OK: every stream replays and every chain holds');
    expect(stdout).not.toContain('PROBLEM');
  }, 60_000);

  it('replay prints every step with its state and changes, then the verdict, and exits 0', async () => {
    const { code, stdout } = await run('replay', clean, [String(closed.id)]);
    expect(code).toBe(0);
    expect(stdout).toContain(`application-${closed.id}: ${closed.version} events, stored state closed`);
    for (let seq = 1; seq <= closed.version; seq += 1) expect(stdout).toMatch(new RegExp(`^#${seq}  \\S+  \\S+  by `, 'm'));
    expect(stdout).toMatch(/^ {4}\(start\) -> draft {2}\[ok\]$/m);
    expect(stdout).toMatch(/^ {4}form\.title: — -> /m);
    expect(stdout).toMatch(/-> closed {2}\[ok\]$/m);
    expect(stdout).toContain(`OK: all ${closed.version} events replay, the chain holds, the stored state matches`);
  }, 60_000);

  it('replay of an application that does not exist exits 2 and says so', async () => {
    const { code, stderr } = await run('replay', clean, ['999999']);
    expect(code).toBe(2);
    expect(stderr).toContain('no application or stream 999999');
  }, 60_000);
});

describe('on a tampered database', () => {
  it('a changed payload: verify and replay name the stream, the event and the kind, and exit 1', async () => {
    const seq = 2;
    const path = tamperedCopy('payload.sqlite', "UPDATE events SET payload = replace(payload, '\"durationMonths\":', '\"durationMonths\":1') WHERE stream_id = ? AND seq = ?", `application-${closed.id}`, seq);
    const verify = await run('verify', path);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`PROBLEM hash-mismatch in application-${closed.id} at event ${seq}: `);
    expect(verify.stdout).toMatch(/FAILED: \d+ problem\(s\)/);
    const replay = await run('replay', path, [String(closed.id)]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain(`PROBLEM hash-mismatch in application-${closed.id} at event ${seq}: `);
    expect(replay.stdout).toMatch(/FAILED: \d+ problem\(s\)/);
    // Another application's history still replays clean.
    expect((await run('replay', path, [String(other.id)])).code).toBe(0);
  }, 90_000);

  it('a deleted event: named as missing', async () => {
    const path = tamperedCopy('deleted.sqlite', 'DELETE FROM events WHERE stream_id = ? AND seq = 5', `application-${closed.id}`);
    const verify = await run('verify', path);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`PROBLEM missing-event in application-${closed.id} at event 5: `);
    const replay = await run('replay', path, [String(closed.id)]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain(`PROBLEM missing-event in application-${closed.id} at event 5`);
  }, 90_000);

  it('a tail cut with the stream row rewritten: caught against the saved anchor and the published head', async () => {
    const path = join(dir, 'cut.sqlite');
    copyFileSync(clean, path);
    const anchorFile = join(dir, 'anchor.json');
    const published = await run('verify', path, ['--save-anchor', anchorFile]);
    expect(published.code).toBe(0);
    const head = /^head: +([0-9a-f]{64})$/m.exec(published.stdout)![1]!;
    expect(JSON.parse(readFileSync(anchorFile, 'utf8')).head).toBe(head);
    // The last application's last event is cut, its stream row rewound to the event before.
    const db = openDb({ path, synchronous: 'OFF' });
    const last = db.$client.prepare<[], { streamId: string; seq: number }>('SELECT stream_id AS streamId, seq FROM events ORDER BY position DESC LIMIT 1').get()!;
    const before = db.$client.prepare<[string, number], { hash: string; toState: string }>('SELECT hash, to_state AS toState FROM events WHERE stream_id = ? AND seq = ?').get(last.streamId, last.seq - 1)!;
    db.$client.exec('DROP TRIGGER events_no_delete;');
    db.$client.prepare('DELETE FROM events WHERE stream_id = ? AND seq = ?').run(last.streamId, last.seq);
    db.$client.prepare('UPDATE streams SET version = ?, head_hash = ?, state = ? WHERE id = ?').run(last.seq - 1, before.hash, before.toState, last.streamId);
    db.$client.prepare("UPDATE sqlite_sequence SET seq = (SELECT MAX(position) FROM events) WHERE name = 'events'").run();
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    db.$client.close();
    const anchored = await run('verify', path, ['--anchor', anchorFile]);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toContain(`PROBLEM missing-event in ${last.streamId} at event ${last.seq}: `);
    const headed = await run('verify', path, ['--head', head]);
    expect(headed.code).toBe(1);
    expect(headed.stdout).toContain('PROBLEM head-mismatch in *');
  }, 90_000);
});
