import type Database from 'better-sqlite3';
import type { Db } from './client.ts';

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * A statement prepared once per database connection and kept (DESIGN §4.8): reads that run on
 * every request ask for it by its text instead of preparing it again at each call.
 */
export function statement<P extends unknown[] | {} = unknown[], R = unknown>(db: Db | Database.Database, text: string): Database.Statement<P, R> {
  const sqlite = '$client' in db ? db.$client : db;
  let byText = cache.get(sqlite);
  if (!byText) {
    byText = new Map();
    cache.set(sqlite, byText);
  }
  let prepared = byText.get(text);
  if (!prepared) {
    prepared = sqlite.prepare(text);
    byText.set(text, prepared);
  }
  return prepared as unknown as Database.Statement<P, R>;
}

/**
 * Memoizes a factory of prepared statements per database connection: `stageReads(db)` may be
 * called on every request and still prepares its statements once.
 */
export function perDatabase<T>(factory: (db: Db) => T): (db: Db) => T {
  const made = new WeakMap<Database.Database, T>();
  return (db) => {
    let value = made.get(db.$client);
    if (value === undefined) {
      value = factory(db);
      made.set(db.$client, value);
    }
    return value;
  };
}
