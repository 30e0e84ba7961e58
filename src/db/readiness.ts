import type Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { storageFaultOf, type StorageFault } from './storage-faults.ts';

/** Below this much free space on the database's file system a write may fail halfway: not ready. */
export const MIN_FREE_BYTES = 1024 * 1024;

export type Readiness = { ok: true } | { ok: false; fault: StorageFault; detail: string };

/**
 * Whether the database can be written now: the connection is not read-only, it gets the write
 * lock (within its busy timeout), SQLite accepts a change to the schema inside a transaction that
 * is then rolled back (so nothing is written, but a read-only file or directory shows), and the
 * file system has room. What `/readyz` answers and what the server checks before it starts.
 */
export function checkWritable(client: Database.Database, options: { minFreeBytes?: number } = {}): Readiness {
  if (client.readonly) return { ok: false, fault: 'read-only', detail: 'the database connection is read-only' };
  try {
    client.exec('BEGIN IMMEDIATE');
    try {
      client.exec('CREATE TABLE readiness_probe (x)');
    } finally {
      client.exec('ROLLBACK');
    }
  } catch (error) {
    const fault = storageFaultOf(error);
    if (!fault) throw error;
    return { ok: false, fault, detail: `${(error as { code?: string }).code}: ${(error as Error).message}` };
  }
  if (!client.memory && client.name !== ':memory:' && client.name !== '') {
    const directory = dirname(resolve(client.name));
    try {
      const space = statfsSync(directory);
      const free = space.bavail * space.bsize;
      if (free < (options.minFreeBytes ?? MIN_FREE_BYTES)) return { ok: false, fault: 'full', detail: `${free} bytes free in ${directory}` };
    } catch (error) {
      const fault = storageFaultOf(error);
      if (fault) return { ok: false, fault, detail: `${(error as { code?: string }).code}: ${(error as Error).message}` };
      throw error;
    }
  }
  return { ok: true };
}
