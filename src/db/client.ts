import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.ts';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface OpenOptions {
  /** A file path, or ':memory:', or the bytes of a serialized database (`serialize()`), opened as an in-memory copy. */
  path: string | Buffer;
  /** Durability first: FULL unless a test or a benchmark asks otherwise. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
}

/** Opens the database with our pragmas and brings its schema up to date. */
export function openDb(options: OpenOptions): Db {
  if (typeof options.path === 'string' && options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const sqlite = new Database(options.path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle({ client: sqlite, schema }) as Db;
  migrate(db, { migrationsFolder });
  return db;
}
