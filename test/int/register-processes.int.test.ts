import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client.ts';
import { smallWorld } from './small-world.ts';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'isu-register-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/**
 * Registration numbers under real concurrency (issue 13): two processes, each with its own
 * connection to one database file, submit ten applications each at the same moment. SQLite lets
 * one immediate transaction write at a time, and the number is read inside it: 20 distinct,
 * consecutive numbers, whatever the interleaving.
 */
describe('registration numbers from two processes at once', () => {
  it('gives 20 applications submitted by two processes 20 distinct consecutive numbers', { timeout: 120_000 }, async () => {
    const path = join(folder, 'register.db');
    const world = smallWorld(path, { documentRules: [] });
    const ids = Array.from({ length: 20 }, (_, i) => world.draft(`Подача из двух процессов ${i + 1}`));
    const actor = JSON.stringify(world.actors.applicant);
    world.db.$client.close();
    const start = String(Date.now() + 4_000);
    const halves = [ids.filter((_, i) => i % 2 === 0), ids.filter((_, i) => i % 2 === 1)];
    const results = await Promise.all(
      halves.map((half) => run(process.execPath, ['--import', 'tsx', 'test/int/register-submitter.ts', path, actor, half.join(','), start], { cwd: process.cwd() })),
    );
    expect(results.flatMap((r) => (JSON.parse(r.stdout) as { submitted: number[] }).submitted).sort((a, b) => a - b)).toEqual(ids);

    const reopened = smallWorldRows(path);
    expect(reopened.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(reopened.map((r) => r.no)).size).toBe(20);
    // Each number is the one its submit event recorded.
    for (const row of reopened) expect(JSON.parse(row.facts).registration).toEqual({ no: row.no, seq: row.seq });
  });
});

/** The numbers as the processes left them in the file, with the facts of each submit event. */
function smallWorldRows(path: string) {
  const db = openDb({ path });
  const rows = db.$client
    .prepare(
      `SELECT a.id, a.registration_no AS no, a.registration_seq AS seq, e.facts FROM applications a JOIN events e ON e.stream_id = a.stream_id AND e.type = 'submit'`,
    )
    .all() as { id: number; no: string; seq: number; facts: string }[];
  db.$client.close();
  return rows;
}
