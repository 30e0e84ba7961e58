import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { openDb, type Db } from '../db/client.ts';
import { storageFaultOf } from '../db/storage-faults.ts';
import * as schema from '../db/schema.ts';
import { verifyLedgerAndDocuments } from '../workflows/documents/check.ts';
import { ledgerAnchor, type LedgerAnchor } from '../engine/verify.ts';
import type { LedgerProblem } from '../engine/replay.ts';
import { DocumentStore } from '../workflows/documents/store.ts';
import { defaultRegistry } from '../../machines/registry.ts';

/**
 * Backups (issue 17): one folder holding a consistent copy of the database, every document file
 * its events name, the ledger anchor of that copy and a manifest. Made online — the server keeps
 * writing — with SQLite's `VACUUM INTO`, which reads one snapshot in one read transaction, so
 * that every event acknowledged before the backup began is in it (a plain `cp` of the file misses
 * what is still in the WAL). A restore checks the copy against its anchor and its files before it
 * puts anything in place, and never overwrites a database another process has open.
 */
export const BACKUP_DATABASE = 'isu-ib.sqlite';
export const ANCHOR_FILE = 'anchor.json';
export const MANIFEST_FILE = 'backup.json';
export const DOCUMENTS_DIR = 'documents';

export interface BackupManifest {
  format: 1;
  createdAt: string;
  /** The database the copy was made of. */
  source: string;
  database: { file: string; bytes: number; sha256: string };
  documents: { files: number; bytes: number };
  ledger: { events: number; streams: number; head: string };
}

/** A refusal or a failure of a backup or a restore, with the exit code the command ends with. */
export class BackupError extends Error {
  constructor(
    message: string,
    /** 1: the copy or the record is not sound; 2: refused before anything was done (usage, a busy target). */
    readonly exitCode: 1 | 2,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

type Log = (line: string) => void;

/** Flushes a file's bytes, or a folder's entries, to the disk. */
function flush(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function isEmptyDir(path: string): boolean {
  return statSync(path).isDirectory() && readdirSync(path).length === 0;
}

/** A read-only drizzle handle over a database file, without migrating it: the copy stays as it was made. */
function openReadOnly(path: string): Db {
  const client = new Database(path, { readonly: true, fileMustExist: true });
  return drizzle({ client, schema }) as Db;
}

/** The files the events of a database name, each with the first event that names it. */
function attachedFiles(db: Db): { sha256: string; stream: string; seq: number }[] {
  const rows = db.$client
    .prepare<[], { stream: string; seq: number; sha256: unknown }>(
      "SELECT stream_id AS stream, seq, json_extract(payload, '$.sha256') AS sha256 FROM events WHERE type IN ('attach-document', 'attach-evidence') ORDER BY position",
    )
    .all();
  const seen = new Map<string, { sha256: string; stream: string; seq: number }>();
  for (const row of rows) if (typeof row.sha256 === 'string' && /^[0-9a-f]{64}$/.test(row.sha256) && !seen.has(row.sha256)) seen.set(row.sha256, { sha256: row.sha256, stream: row.stream, seq: row.seq });
  return [...seen.values()];
}

/** Whether another connection (a running server, an editor) has the database open: it then holds a shared lock. */
export function isDatabaseInUse(path: string): boolean {
  if (!existsSync(path)) return false;
  const probe = new Database(path, { fileMustExist: true });
  try {
    probe.pragma('busy_timeout = 0');
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.exec('BEGIN EXCLUSIVE');
    probe.exec('ROLLBACK');
    return false;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
    if (code === 'SQLITE_NOTADB') throw new BackupError(`${path} is not a database; move it away first. Nothing was changed`, 2);
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * `npm run backup -- <dir>`: copies the database at `sourcePath` and the documents beside it
 * (`documents/`) into `targetDir`, which must not exist or be empty. The folder appears only
 * when the backup is complete and on the disk; a failed backup leaves nothing behind.
 */
export async function backupDatabase(sourcePath: string, targetDir: string, options: { log?: Log; now?: Date } = {}): Promise<BackupManifest> {
  const log = options.log ?? (() => {});
  const source = resolve(sourcePath);
  const target = resolve(targetDir);
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source} (DATABASE_PATH)`, 2);
  if (existsSync(target) && !isEmptyDir(target)) throw new BackupError(`${target} is not empty: a backup goes into a new or empty folder, so that an older backup is never mixed with a newer one`, 2);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    const copyPath = join(staging, BACKUP_DATABASE);
    const live = new Database(source, { readonly: true, fileMustExist: true });
    try {
      live.pragma('busy_timeout = 5000');
      // One read transaction: a snapshot of the database as it is now, while writers go on in the WAL.
      live.prepare('VACUUM INTO ?').run(copyPath);
    } finally {
      live.close();
    }
    // VACUUM INTO does not sync what it wrote.
    flush(copyPath);

    const copy = openReadOnly(copyPath);
    let anchor: LedgerAnchor;
    let files: ReturnType<typeof attachedFiles>;
    try {
      anchor = ledgerAnchor(copy);
      files = attachedFiles(copy);
    } finally {
      copy.$client.close();
    }

    // Files are content-addressed and written before the events that name them: each one the copy names is there.
    const liveStore = new DocumentStore(join(dirname(source), DOCUMENTS_DIR));
    const copyStore = new DocumentStore(join(staging, DOCUMENTS_DIR));
    const problems: string[] = [];
    let bytes = 0;
    const folders = new Set<string>();
    for (const file of files) {
      const from = liveStore.pathOf(file.sha256);
      const to = copyStore.pathOf(file.sha256);
      mkdirSync(dirname(to), { recursive: true });
      folders.add(dirname(to));
      try {
        copyFileSync(from, to);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        problems.push(`the file ${file.sha256} that ${file.stream} event ${file.seq} names is missing from ${liveStore.root}`);
        continue;
      }
      // The copy itself is read back: what the backup holds is checked, not what it was copied from.
      const actual = await sha256OfFile(to);
      if (actual !== file.sha256) {
        problems.push(`the file ${file.sha256} that ${file.stream} event ${file.seq} names has changed in ${liveStore.root} (its SHA-256 is now ${actual})`);
        continue;
      }
      flush(to);
      bytes += statSync(to).size;
    }
    if (problems.length > 0) {
      throw new BackupError(`the live record is not whole, so no backup of it can be: ${problems.length} document file(s) missing or changed (npm run verify names them)`, 1, problems);
    }
    for (const folder of folders) flush(folder);
    if (folders.size > 0) flush(copyStore.root);

    const manifest: BackupManifest = {
      format: 1,
      createdAt: (options.now ?? new Date()).toISOString(),
      source,
      database: { file: BACKUP_DATABASE, bytes: statSync(copyPath).size, sha256: await sha256OfFile(copyPath) },
      documents: { files: files.length, bytes },
      ledger: { events: anchor.events, streams: Object.keys(anchor.streams).length, head: anchor.head },
    };
    writeFileSync(join(staging, ANCHOR_FILE), `${JSON.stringify(anchor, null, 2)}\n`);
    writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    flush(join(staging, ANCHOR_FILE));
    flush(join(staging, MANIFEST_FILE));
    flush(staging);
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
    flush(dirname(target));
    log(`backup of ${source} in ${target}`);
    log(`events:    ${manifest.ledger.events} in ${manifest.ledger.streams} streams`);
    log(`head:      ${manifest.ledger.head}`);
    log(`database:  ${manifest.database.bytes} bytes, SHA-256 ${manifest.database.sha256}`);
    log(`documents: ${manifest.documents.files} file(s), ${manifest.documents.bytes} bytes`);
    return manifest;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // A full or failing backup disk, or a source that is no database, is said in words, not as a stack.
    const code = (error as { code?: string }).code;
    if (!(error instanceof BackupError) && (storageFaultOf(error) || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')) {
      throw new BackupError(`the backup could not be made (${code}: ${(error as Error).message}); nothing was left in ${dirname(target)}`, 1);
    }
    throw error;
  }
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BackupError(missing ? `${path} is missing: this is not a backup made by npm run backup` : `${what} ${path} cannot be read: ${(error as Error).message}`, missing ? 2 : 1);
  }
}

export interface RestoreReport {
  events: number;
  streams: number;
  head: string;
  documents: number;
  /** Where the database that was in the way now is; null when there was none or only checked. */
  setAside: string | null;
}

/** Every problem of the copy in words: its ledger and files against its anchor. */
async function checkCopy(db: Db, documentsDir: string, anchor: LedgerAnchor): Promise<{ problems: string[]; events: number; streams: number; head: string; documents: number }> {
  const report = await verifyLedgerAndDocuments(db, defaultRegistry(), new DocumentStore(documentsDir), { anchor });
  const problems = report.problems.map((p: LedgerProblem) => `${p.kind} in ${p.stream}${p.seq === null ? '' : ` at event ${p.seq}`}: ${p.message}`);
  // The anchor was taken of this very copy: the copy must be exactly as long, not only start the same.
  if (report.events !== anchor.events || report.head !== anchor.head) {
    problems.push(`the copy holds ${report.events} events with head ${report.head}; its anchor says ${anchor.events} events with head ${anchor.head}`);
  }
  return { problems, events: report.events, streams: report.streams, head: report.head, documents: report.documents };
}

function copyDocuments(fromRoot: string, toRoot: string): number {
  let copied = 0;
  if (!existsSync(fromRoot)) return 0;
  for (const folder of readdirSync(fromRoot)) {
    if (!/^[0-9a-f]{2}$/.test(folder)) continue;
    for (const name of readdirSync(join(fromRoot, folder))) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const to = join(toRoot, folder, name);
      // Content-addressed: a file of that name that verify passed is the same file; anything else is replaced whole.
      const partial = `${to}.restoring`;
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(fromRoot, folder, name), partial);
      flush(partial);
      renameSync(partial, to);
      copied += 1;
    }
    flush(join(toRoot, folder));
  }
  if (copied > 0) flush(toRoot);
  return copied;
}

/**
 * `npm run restore -- <dir> [--check]`: checks the backup — the database file against its
 * manifest's SHA-256, every chain, replay and document file, and the ledger against the anchor
 * taken with it — and only then puts it in place of the database at `targetPath`, with its
 * documents beside it. The database that was there is set aside, never deleted; one that another
 * process has open is not touched. `check` stops after the checks (a restore drill).
 */
export async function restoreBackup(backupDir: string, targetPath: string, options: { log?: Log; check?: boolean; now?: Date } = {}): Promise<RestoreReport> {
  const log = options.log ?? (() => {});
  const dir = resolve(backupDir);
  const target = resolve(targetPath);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BackupError(`${dir} is not a folder`, 2);
  const manifest = readJson<BackupManifest>(join(dir, MANIFEST_FILE), 'the manifest');
  const anchor = readJson<LedgerAnchor>(join(dir, ANCHOR_FILE), 'the anchor');
  const copyPath = join(dir, manifest.database?.file ?? BACKUP_DATABASE);
  if (!existsSync(copyPath)) throw new BackupError(`${copyPath} is missing: the backup has no database`, 1);
  if (!options.check && isDatabaseInUse(target)) {
    throw new BackupError(`${target} is open in another process (a running server?): stop it, then restore again. Nothing was changed`, 2);
  }
  const sha256 = await sha256OfFile(copyPath);
  if (sha256 !== manifest.database.sha256) {
    throw new BackupError(`the database copy ${copyPath} is damaged: its SHA-256 is ${sha256}, the manifest says ${manifest.database.sha256}. Nothing was changed`, 1);
  }

  // Checked on a copy of the copy: migrating and opening write to it, and the backup stays as it was made.
  const stagingRoot = options.check ? tmpdir() : dirname(target);
  mkdirSync(stagingRoot, { recursive: true });
  const staging = mkdtempSync(join(stagingRoot, `.${basename(target)}.restore-`));
  const stagedPath = join(staging, basename(target));
  try {
    copyFileSync(copyPath, stagedPath);
    const db = openDb({ path: stagedPath });
    let checked;
    try {
      checked = await checkCopy(db, join(dir, DOCUMENTS_DIR), anchor);
      db.$client.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.$client.close();
    }
    if (checked.problems.length > 0) {
      throw new BackupError(`the backup fails its check (${checked.problems.length} problem(s)); nothing was changed`, 1, checked.problems);
    }
    log(`backup ${dir} checked: ${checked.events} events in ${checked.streams} streams, head ${checked.head}, every file of its ${checked.documents} attach-document event(s) present and whole`);
    if (options.check) return { events: checked.events, streams: checked.streams, head: checked.head, documents: checked.documents, setAside: null };

    // Checked again just before anything moves: a server may have started meanwhile.
    if (isDatabaseInUse(target)) throw new BackupError(`${target} is open in another process (a running server?): stop it, then restore again. Nothing was changed`, 2);
    const documents = copyDocuments(join(dir, DOCUMENTS_DIR), join(dirname(target), DOCUMENTS_DIR));
    flush(stagedPath);
    let setAside: string | null = null;
    if (existsSync(target)) {
      const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
      setAside = `${target}.before-restore-${stamp}`;
      renameSync(target, setAside);
      for (const suffix of ['-wal', '-shm']) if (existsSync(target + suffix)) renameSync(target + suffix, setAside + suffix);
    }
    renameSync(stagedPath, target);
    flush(dirname(target));

    // The database in place, with the documents beside it, is what the server will open: check that too.
    const placed = openDb({ path: target });
    let final;
    try {
      final = await checkCopy(placed, join(dirname(target), DOCUMENTS_DIR), anchor);
    } finally {
      placed.$client.close();
    }
    if (final.problems.length > 0) {
      throw new BackupError(`the restored database at ${target} fails its check${setAside ? `; the database that was there is ${setAside}` : ''}`, 1, final.problems);
    }
    log(`restored into ${target}: ${final.events} events, head ${final.head}; ${documents} document file(s) in ${join(dirname(target), DOCUMENTS_DIR)}`);
    if (setAside) log(`the database that was there is kept as ${setAside}`);
    return { events: final.events, streams: final.streams, head: final.head, documents: final.documents, setAside };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
