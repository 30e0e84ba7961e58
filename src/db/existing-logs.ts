import { recordExistingUsers } from '../accounts/security-log.ts';
import { recordExistingSettings } from '../engine/settings-log.ts';
import type { Db } from './client.ts';

/**
 * After migration 0018, once: the users and the programmes' settings that were there before the
 * security log and the settings log, entered as they stand (marked so), so that verify checks them
 * from then on. Called where a database is opened to be written: the server and the command lines.
 */
export function recordExistingEntries(db: Db): Db {
  recordExistingUsers(db);
  recordExistingSettings(db);
  return db;
}
