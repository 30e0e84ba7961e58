import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Db } from '../db/client.ts';
import * as schema from '../db/schema.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { verifyRecord } from '../workflows/documents/check.ts';
import { DocumentStore } from '../workflows/documents/store.ts';
import type { VerifyWorkerInput, VerifyWorkerMessage } from './verify-jobs.ts';

/**
 * A whole-ledger verify in a worker thread (issue 17): on a read-only connection of its own to the
 * same file, in one snapshot, so that the server's thread and its writes go on meanwhile. It posts
 * its progress, then the report and the checkpoints reached, which the server writes.
 */
const input = workerData as VerifyWorkerInput;
// Background work: on Linux this lowers this thread alone (the server's thread keeps its
// priority), so that on a busy machine the scheduler runs the requests and the writes first.
try {
  setPriority(19);
} catch {
  // not permitted here: the verify runs at the server's priority
}
const post = (message: VerifyWorkerMessage) => parentPort!.postMessage(message);
const sqlite = new Database(input.path, { readonly: true, fileMustExist: true });
try {
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle({ client: sqlite, schema }) as Db;
  const { report, checkpoints } = await verifyRecord(db, defaultRegistry(), new DocumentStore(input.documentsDir), {
    ...input.options,
    onProgress: (checked, total) => post({ type: 'progress', checked, total }),
  });
  post({ type: 'done', report, checkpoints });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
} finally {
  sqlite.close();
}
