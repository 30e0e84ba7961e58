import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSession } from '../../src/accounts/sessions.ts';
import { openDb } from '../../src/db/client.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { freePort } from './free-port.ts';
import { smallWorld } from './small-world.ts';

/**
 * Crash under load with group commit (issue 18): the real server (`npm start`) takes 24 writers'
 * `update` events on their own drafts — batched, several to a transaction — and is killed with
 * SIGKILL in the middle, three times over the same database. Every transition it acknowledged
 * with a 200 is in the log after the restart, and the ledger verifies: an answer is never sent
 * before the commit that holds it.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});


async function until(what: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await what().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error('the server did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const WRITERS = 24;
const ROUNDS = 3;

describe('a crash under load with group commit', () => {
  it('loses no acknowledged transition over three SIGKILLs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isu-ib-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'isu-ib.sqlite');
    const world = smallWorld(path, { synchronous: 'FULL' });
    const drafts = Array.from({ length: WRITERS }, (_, i) => world.draft(`Черновик ${i}`));
    const bearer = openSession(world.db, world.actors.applicant.id, 'bearer').token;
    world.db.$client.close();

    /** Every acknowledged (application, version): what the server answered 200 for. */
    const acknowledged = new Map<number, number>();
    let totalAcks = 0;
    const versions = new Map(drafts.map((id) => [id, 1]));
    for (let round = 0; round < ROUNDS; round += 1) {
      const port = await freePort();
      const env = { ...process.env, DATABASE_PATH: path, PORT: String(port), SEED_DEMO: 'false', RATE_LIMIT_PER_MINUTE: '0' };
      // node itself, not the tsx wrapper: SIGKILL must reach the process that writes (tsx's child would outlive its parent).
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      cleanups.push(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000);
      let stop = false;
      let roundAcks = 0;
      const writer = async (id: number) => {
        while (!stop) {
          let response: Response;
          try {
            response = await fetch(`http://127.0.0.1:${port}/api/applications/${id}/events`, {
              method: 'POST',
              headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
              body: JSON.stringify({ type: 'update', expectedVersion: versions.get(id), beneficiaries: versions.get(id) }),
            });
          } catch {
            return; // the server is gone
          }
          const body = (await response.json().catch(() => null)) as { version?: number; current?: { version: number } } | null;
          if (response.status === 200 && body?.version) {
            acknowledged.set(id, body.version);
            versions.set(id, body.version);
            roundAcks += 1;
          } else if (response.status === 409 && body?.current) versions.set(id, body.current.version);
          else return;
        }
      };
      const writing = Promise.all(drafts.map(writer));
      // Kill once the writers are well under way, in the middle of whatever batch is being committed.
      await until(async () => roundAcks >= 150, 60_000);
      child.kill('SIGKILL');
      stop = true;
      await exited;
      await writing;
      totalAcks += roundAcks;
      // Killed, not still answering: nothing listens on its port any more.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

      const db = openDb({ path });
      const stored = db.$client.prepare<[string], { version: number }>('SELECT version FROM streams WHERE id = ?');
      const event = db.$client.prepare<[string, number], { seq: number }>('SELECT seq FROM events WHERE stream_id = ? AND seq = ?');
      for (const [id, version] of acknowledged) {
        expect(event.get(`application-${id}`, version), `application ${id} version ${version} was acknowledged`).toBeDefined();
        const kept = stored.get(`application-${id}`)!.version;
        expect(kept).toBeGreaterThanOrEqual(version);
        // A write committed whose answer was lost in the kill: the next round goes on from the stored version.
        versions.set(id, kept);
      }
      const report = verifyLedger(db, defaultRegistry());
      expect(report.problems).toEqual([]);
      db.$client.close();
    }
    expect(totalAcks).toBeGreaterThanOrEqual(ROUNDS * 150);
  }, 180_000);
});
