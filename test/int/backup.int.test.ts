import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCHOR_FILE, BACKUP_DATABASE, BackupError, MANIFEST_FILE, backupDatabase, restoreBackup, type BackupManifest } from '../../src/backup/backup.ts';
import { openDb } from '../../src/db/client.ts';
import { verifyLedger, type LedgerAnchor } from '../../src/engine/verify.ts';
import { checkDocumentFiles } from '../../src/workflows/documents/check.ts';
import { DocumentStore } from '../../src/workflows/documents/store.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { smallWorld, type SmallWorld } from './small-world.ts';
import { canMountSmallDisk, smallDisk } from './small-disk.ts';

/**
 * Backups (issue 17, point 3): `npm run backup` while the engine writes, `npm run restore`, and
 * what restore refuses. The copy must hold every event acknowledged before the backup began, be
 * a prefix of the live log (one snapshot, never a mixture), and pass verify against its anchor.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function run(script: 'backup' | 'restore', database: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(tsx, [`src/cli/${script}.ts`, ...args], { cwd: root, env: { ...process.env, DATABASE_PATH: database }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let live: string;
let world: SmallWorld;
let ids: number[];
/** A finished backup of the world, for the refusals to damage copies of. */
let good: string;

const hashesByPosition = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { position: number; stream: string; seq: number; hash: string }>('SELECT position, stream_id AS stream, seq, hash FROM events ORDER BY position').all();
  } finally {
    db.close();
  }
};

function copyOfGood(name: string): string {
  const copy = join(dir, name);
  rmSync(copy, { recursive: true, force: true });
  // A backup folder is plain files: a recursive copy is a faithful one.
  mkdirSync(copy);
  for (const entry of readdirSync(good, { recursive: true, withFileTypes: true })) {
    const from = join(entry.parentPath, entry.name);
    const to = join(copy, from.slice(good.length));
    if (entry.isDirectory()) mkdirSync(to, { recursive: true });
    else writeFileSync(to, readFileSync(from));
  }
  return copy;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'isu-ib-backup-'));
  live = join(dir, 'live', 'isu-ib.sqlite');
  world = smallWorld(live, { synchronous: 'FULL' });
  ids = Array.from({ length: 12 }, (_, i) => world.draft(`Ремонт дороги № ${i + 1}`));
  for (const [i, id] of ids.slice(0, 4).entries()) world.attach(id, `протокол ${i + 1}`);
});

afterAll(() => {
  world.db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run backup while the engine writes, then npm run restore', () => {
  it('holds every event acknowledged before the backup began, is one snapshot, and restores to a ledger that verifies against its anchor', async () => {
    const acknowledged: { stream: string; seq: number; hash: string }[] = [];
    let n = 0;
    const writeOne = () => {
      const id = ids[n % ids.length]!;
      const applied = world.retitle(id, `Ремонт дороги № ${id}, правка ${++n}`);
      acknowledged.push({ stream: applied.streamId, seq: applied.event.seq, hash: applied.event.hash });
    };
    for (let i = 0; i < 150; i++) writeOne();
    // The WAL holds what a plain copy of the file would miss.
    expect(readFileSync(`${live}-wal`).length).toBeGreaterThan(0);
    const before = acknowledged.length;
    const backup = join(dir, 'backup-1');
    const child = run('backup', live, [backup]);
    let running = true;
    void child.then(() => (running = false));
    // Another connection's writes go on through the engine for as long as the backup runs.
    while (running) {
      writeOne();
      await yieldToEvents();
    }
    const result = await child;
    const during = acknowledged.length - before;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^events: +\d+ in \d+ streams$/m);
    expect(result.stdout).toContain('OK: the backup is complete');
    expect(during, 'events written while the backup ran').toBeGreaterThan(10);

    const manifest = JSON.parse(readFileSync(join(backup, MANIFEST_FILE), 'utf8')) as BackupManifest;
    const anchor = JSON.parse(readFileSync(join(backup, ANCHOR_FILE), 'utf8')) as LedgerAnchor;
    expect(manifest.ledger.events).toBe(anchor.events);
    expect(manifest.documents.files).toBe(4);

    const target = join(dir, 'restored', 'isu-ib.sqlite');
    const restored = await run('restore', target, [backup]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('OK: restored');

    // Every event acknowledged before the backup began is there, byte for byte (its hash).
    const copy = hashesByPosition(target);
    const copied = new Map(copy.map((row) => [`${row.stream}#${row.seq}`, row.hash]));
    const lost = acknowledged.slice(0, before).filter((event) => copied.get(`${event.stream}#${event.seq}`) !== event.hash);
    expect(lost).toEqual([]);
    // One snapshot: the copy is the live log up to some position, nothing missing, nothing mixed in.
    const liveRows = hashesByPosition(live);
    expect(copy.length).toBeGreaterThanOrEqual(liveRows.length - during);
    expect(copy).toEqual(liveRows.slice(0, copy.length));
    expect(copy.length).toBe(anchor.events);
    if (process.env.BACKUP_VERBOSE) console.log(`acknowledged before ${before}, during ${during}; the copy holds ${copy.length} of ${liveRows.length} events`);

    const db = openDb({ path: target });
    try {
      const report = verifyLedger(db, defaultRegistry(), { anchor });
      expect(report.problems).toEqual([]);
      expect(report.head).toBe(anchor.head);
      const files = await checkDocumentFiles(db, new DocumentStore(join(dir, 'restored', 'documents')));
      expect(files.problems).toEqual([]);
      expect(files.files).toBe(4);
    } finally {
      db.$client.close();
    }
    good = backup;
  }, 120_000);

  it('refuses a folder that is not empty, and changes nothing in it', async () => {
    const busy = join(dir, 'not-empty');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'keep me');
    const result = await run('backup', live, [busy]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not empty');
    expect(readdirSync(busy)).toEqual(['notes.txt']);
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  }, 60_000);
});

describe('a backup disk that fills up', () => {
  it.skipIf(!canMountSmallDisk)('fails with exit 1 and a line that says so, and leaves nothing behind', async () => {
    const disk = smallDisk(256 * 1024)!;
    try {
      const result = await run('backup', live, [join(disk.path, 'backup')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^FAILED: the backup could not be made \((SQLITE_FULL|ENOSPC)/m);
      expect(readdirSync(disk.path)).toEqual([]);
    } finally {
      disk.remove();
    }
  }, 60_000);
});

describe('restore refuses what does not check out, and changes nothing', () => {
  /** The target as it was: a database of its own, to see that a refusal leaves it alone. */
  function occupiedTarget(name: string): { path: string; hashes: string } {
    const path = join(dir, name, 'isu-ib.sqlite');
    const other = smallWorld(path);
    other.draft('Чужая заявка');
    other.db.$client.close();
    return { path, hashes: JSON.stringify(hashesByPosition(path)) };
  }

  async function refusal(promise: Promise<unknown>): Promise<BackupError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof BackupError) return error;
      throw error;
    }
    throw new Error('the restore was not refused');
  }

  it('a database copy with a changed byte', async () => {
    const backup = copyOfGood('damaged-byte');
    const file = join(backup, BACKUP_DATABASE);
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(file, bytes);
    const target = occupiedTarget('t-damaged');
    const error = await refusal(restoreBackup(backup, target.path));
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('is damaged');
    expect(JSON.stringify(hashesByPosition(target.path))).toBe(target.hashes);
  });

  it('a copy cut short behind the manifest (its hash recomputed): verify against the anchor names the stream', async () => {
    const backup = copyOfGood('cut-tail');
    const file = join(backup, BACKUP_DATABASE);
    const db = new Database(file);
    db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
    const last = db.prepare<[], { stream: string; seq: number; prev: string }>('SELECT stream_id AS stream, seq, prev_hash AS prev FROM events ORDER BY position DESC LIMIT 1').get()!;
    db.prepare('DELETE FROM events WHERE stream_id = ? AND seq = ?').run(last.stream, last.seq);
    db.prepare('UPDATE streams SET version = version - 1, head_hash = ? WHERE id = ?').run(last.prev, last.stream);
    db.prepare("UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'events'").run();
    db.close();
    const manifestPath = join(backup, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest;
    const { createHash } = await import('node:crypto');
    manifest.database.sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const target = occupiedTarget('t-cut');
    const error = await refusal(restoreBackup(backup, target.path));
    expect(error.exitCode).toBe(1);
    expect(error.problems.some((p) => p.startsWith(`missing-event in ${last.stream} at event ${last.seq}`))).toBe(true);
    expect(JSON.stringify(hashesByPosition(target.path))).toBe(target.hashes);
  });

  it('a backup without one of its document files', async () => {
    const backup = copyOfGood('missing-document');
    const documents = join(backup, 'documents');
    const folder = readdirSync(documents).find((name) => /^[0-9a-f]{2}$/.test(name))!;
    const file = readdirSync(join(documents, folder))[0]!;
    rmSync(join(documents, folder, file));
    const error = await refusal(restoreBackup(backup, join(dir, 't-missing', 'isu-ib.sqlite')));
    expect(error.exitCode).toBe(1);
    expect(error.problems.some((p) => p.startsWith('document-missing') && p.includes(file))).toBe(true);
    expect(existsSync(join(dir, 't-missing', 'isu-ib.sqlite'))).toBe(false);
  });

  it('a target that another process has open; once it is closed the restore goes ahead and keeps the old database', async () => {
    const target = occupiedTarget('t-held');
    const server = new Database(target.path);
    server.prepare('SELECT count(*) FROM events').get();
    try {
      const result = await run('restore', target.path, [good]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('is open in another process');
      expect(result.stderr).toContain('Nothing was changed');
    } finally {
      server.close();
    }
    expect(JSON.stringify(hashesByPosition(target.path))).toBe(target.hashes);
    const lines: string[] = [];
    const report = await restoreBackup(good, target.path, { log: (line) => lines.push(line) });
    expect(report.setAside).not.toBeNull();
    expect(JSON.stringify(hashesByPosition(report.setAside!))).toBe(target.hashes);
    expect(hashesByPosition(target.path).length).toBe(report.events);
    expect(lines.at(-1)).toContain(report.setAside!);
  }, 60_000);

  it('--check checks and puts nothing in place', async () => {
    const target = join(dir, 't-check', 'isu-ib.sqlite');
    const result = await run('restore', target, [good, '--check']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('OK: the backup is sound');
    expect(existsSync(target)).toBe(false);
  }, 60_000);
});
