import type Database from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { appendChained, chainedPage, readChain, type ChainProblem, type ChainedRow, type LogActor } from '../engine/chained-log.ts';
import type { ProjectionDifference } from '../engine/projections.ts';

/**
 * The security log (issue 17.2, ASVS 7.1–7.3): who created a user, changed a role or a
 * municipality, set or reset a password, revoked sessions, deactivated or activated an account —
 * appended in the change's own transaction, each entry chained to the one before by its hash, the
 * table append-only by trigger (migration 0018). Verify checks the chain and that the users table
 * is what the log folds to (role, municipality, active), naming each difference.
 */

export type SecurityAction =
  | 'user-created'
  /** A user that existed before the log did, recorded as it stood (the first open after migration 0018). */
  | 'user-recorded'
  | 'user-changed'
  | 'password-reset'
  | 'password-changed'
  | 'sessions-revoked'
  | 'user-deactivated'
  | 'user-activated'
  /** A session opened (a cookie at the login form, a bearer token through the API) and closed by its user: ASVS 7.1. */
  | 'signed-in'
  | 'signed-out';

export interface SecurityLogRow extends ChainedRow {
  action: SecurityAction;
}

export type { LogActor } from '../engine/chained-log.ts';

/**
 * Appends one entry. Call it inside the transaction of the change it records: the entry and the
 * change commit or roll back together. `details` is what changed, kept as canonical JSON.
 */
export function logSecurity(db: Db | Database.Database, entry: { at: Date | string; actor: LogActor; action: SecurityAction; subject: number; details?: Record<string, unknown> }): ChainedRow {
  return appendChained(db, 'security_log', entry);
}

/** The state of a user's account as the log folds it. */
export interface LoggedUser {
  role: string | null;
  municipality_id: number | null;
  active: number;
}

/** What an entry sets of the account, by its details. */
function foldEntry(user: LoggedUser | undefined, row: SecurityLogRow): LoggedUser | undefined {
  const details = JSON.parse(row.details) as { role?: string; municipalityId?: number | null; active?: boolean };
  switch (row.action) {
    case 'user-created':
    case 'user-recorded':
      return { role: details.role ?? null, municipality_id: details.municipalityId ?? null, active: details.active === false ? 0 : 1 };
    case 'user-changed':
      return user && { ...user, role: details.role ?? user.role, municipality_id: details.municipalityId === undefined ? user.municipality_id : details.municipalityId };
    case 'user-deactivated':
      return user && { ...user, active: 0 };
    case 'user-activated':
      return user && { ...user, active: 1 };
    default:
      return user;
  }
}

/**
 * The security log's chain (each hash over its entry, each entry naming the hash before it,
 * positions without gaps up to the highest ever given) and the users table against the log's fold:
 * each user's role, municipality and active flag, by table `users`, key the user's id and column.
 */
export function verifySecurityLog(db: Db): { problems: ChainProblem[]; differences: ProjectionDifference[]; entries: number } {
  const { rows, problems } = readChain(db, 'security_log');
  const folded = new Map<string, LoggedUser>();
  for (const row of rows) {
    try {
      const next = foldEntry(folded.get(row.subject), row as SecurityLogRow);
      if (next) folded.set(row.subject, next);
    } catch {
      problems.push({ kind: 'hash-mismatch', position: row.position, message: `security log entry ${row.position} has unreadable details` });
    }
  }
  const differences: ProjectionDifference[] = [];
  const stored = statement<[], { id: number; role: string; municipality_id: number | null; active: number }>(db, 'SELECT id, role, municipality_id, active FROM users ORDER BY id').all();
  for (const user of stored) {
    const key = String(user.id);
    const logged = folded.get(key);
    folded.delete(key);
    if (!logged) {
      differences.push({ table: 'users', key, column: '*', stored: 'a row', derived: 'no entry in the security log' });
      continue;
    }
    for (const column of ['role', 'municipality_id', 'active'] as const) {
      if (user[column] !== logged[column]) differences.push({ table: 'users', key, column, stored: user[column], derived: logged[column] });
    }
  }
  for (const key of folded.keys()) differences.push({ table: 'users', key, column: '*', stored: null, derived: 'a row' });
  return { problems, differences, entries: rows.length };
}

/**
 * Records, once, the users that existed before the security log did (the first open after
 * migration 0018): while the log is empty, every user is entered as it stands. A user added behind
 * the application's back later has no entry, and verify names it.
 */
export function recordExistingUsers(db: Db): void {
  const sqlite = db.$client;
  if (statement<[], { n: number }>(sqlite, 'SELECT count(*) AS n FROM security_log').get()!.n > 0) return;
  const existing = statement<[], { id: number; login: string; role: string; municipalityId: number | null; active: number }>(
    sqlite,
    'SELECT id, login, role, municipality_id AS municipalityId, active FROM users ORDER BY id',
  ).all();
  if (existing.length === 0) return;
  const at = new Date();
  sqlite.transaction(() => {
    for (const user of existing) {
      logSecurity(sqlite, { at, actor: null, action: 'user-recorded', subject: user.id, details: { login: user.login, role: user.role, municipalityId: user.municipalityId, active: user.active === 1 } });
    }
  }).immediate();
}

/** A page of the log, newest first, for the admins' and auditors' page. */
export function securityLogPage(db: Db, options: { before?: number; limit: number }): ChainedRow[] {
  return chainedPage(db, 'security_log', options);
}
