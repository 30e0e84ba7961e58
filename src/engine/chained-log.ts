import type Database from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import type { Actor } from '../domain/roles.ts';
import { GENESIS_HASH, canonicalJson, sha256 } from './ledger.ts';

/**
 * A hash-chained, append-only log beside the events (issue 17.2): the security log and the
 * settings log share its shape — position, at, actor, action, subject, details (canonical JSON),
 * the ledger's length then, prev_hash, hash — and its checks.
 */
export type ChainedTable = 'security_log' | 'settings_log';

export interface ChainedRow {
  position: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  /** How many events the ledger held when the entry was written: it falls after event `ledgerPosition`. */
  ledgerPosition: number;
  prevHash: string;
  hash: string;
}

/** Who acted, as the logs keep them: an actor, or the system (the command line, the seed, a migration). */
export type LogActor = Pick<Actor, 'id' | 'login' | 'role'> | null;

export const actorText = (actor: LogActor) => (actor ? canonicalJson({ id: actor.id, login: actor.login, role: actor.role }) : '"system"');

/** hash = sha256(prev_hash ‖ canonical JSON of the entry's other columns). */
export function hashChained(row: Omit<ChainedRow, 'hash'>): string {
  const { prevHash, ...rest } = row;
  return sha256(prevHash + canonicalJson(rest));
}

const COLUMNS = 'position, at, actor, action, subject, details, ledger_position AS ledgerPosition, prev_hash AS prevHash, hash';

/** Appends one entry; called inside the transaction of the change it records. */
export function appendChained(
  db: Db | Database.Database,
  table: ChainedTable,
  entry: { at: Date | string; actor: LogActor; action: string; subject: string | number; details?: Record<string, unknown> },
): ChainedRow {
  const last = statement<[], { position: number; hash: string }>(db, `SELECT position, hash FROM ${table} ORDER BY position DESC LIMIT 1`).get();
  const sequence = statement<[], { seq: number }>(db, `SELECT seq FROM sqlite_sequence WHERE name = '${table}'`).get()?.seq ?? 0;
  const ledgerPosition = statement<[], { n: number }>(db, 'SELECT COALESCE(MAX(position), 0) AS n FROM events').get()!.n;
  const row: Omit<ChainedRow, 'hash'> = {
    position: Math.max(last?.position ?? 0, sequence) + 1,
    at: typeof entry.at === 'string' ? entry.at : entry.at.toISOString(),
    actor: actorText(entry.actor),
    action: entry.action,
    subject: String(entry.subject),
    details: canonicalJson(entry.details ?? {}),
    ledgerPosition,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  const stored: ChainedRow = { ...row, hash: hashChained(row) };
  statement<[ChainedRow]>(
    db,
    `INSERT INTO ${table} (position, at, actor, action, subject, details, ledger_position, prev_hash, hash)
     VALUES (@position, @at, @actor, @action, @subject, @details, @ledgerPosition, @prevHash, @hash)`,
  ).run(stored);
  return stored;
}

export interface ChainProblem {
  kind: 'hash-mismatch' | 'broken-chain' | 'missing-event';
  position: number | null;
  message: string;
}

/** Every entry in order, and what is wrong with the chain: a hash, a link, a gap, a cut tail. */
export function readChain(db: Db, table: ChainedTable): { rows: ChainedRow[]; problems: ChainProblem[] } {
  const label = table.replace('_', ' ');
  const problems: ChainProblem[] = [];
  const rows = statement<[], ChainedRow>(db, `SELECT ${COLUMNS} FROM ${table} ORDER BY position`).all();
  let prevHash = GENESIS_HASH;
  let lastPosition = 0;
  for (const row of rows) {
    if (row.position !== lastPosition + 1) problems.push({ kind: 'missing-event', position: row.position, message: `${label} entries ${lastPosition + 1}–${row.position - 1} are missing` });
    if (row.prevHash !== prevHash) problems.push({ kind: 'broken-chain', position: row.position, message: `${label} entry ${row.position} does not follow the entry before it` });
    const { hash, ...rest } = row;
    if (hashChained(rest) !== hash) problems.push({ kind: 'hash-mismatch', position: row.position, message: `${label} entry ${row.position} (${row.action} of ${row.subject}) is not what was written` });
    prevHash = hash;
    lastPosition = row.position;
  }
  // AUTOINCREMENT remembers the highest position ever given: a shorter log lost its tail.
  const sequence = statement<[], { seq: number }>(db, `SELECT seq FROM sqlite_sequence WHERE name = '${table}'`).get()?.seq ?? 0;
  if (sequence > lastPosition) problems.push({ kind: 'missing-event', position: null, message: `${label} entries up to ${sequence} were written, the log ends at ${lastPosition}` });
  return { rows, problems };
}

/** A page of a log, newest first. */
export function chainedPage(db: Db, table: ChainedTable, options: { before?: number; limit: number }): ChainedRow[] {
  return statement<[number, number], ChainedRow>(db, `SELECT ${COLUMNS} FROM ${table} WHERE position < ? ORDER BY position DESC LIMIT ?`).all(options.before ?? Number.MAX_SAFE_INTEGER, options.limit);
}
