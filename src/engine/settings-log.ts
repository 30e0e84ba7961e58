import type Database from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { appendChained, readChain, type ChainProblem, type ChainedRow, type LogActor } from './chained-log.ts';
import type { ProjectionDifference } from './projections.ts';

/**
 * The settings log (issue 17.2): what a programme is set to — its own row, its commission settings
 * (the criteria, the quorum), its deadlines, the documents it requires — is not a stream, yet the
 * pages show it and the guards read it (as facts: the rules, the required documents, the savings
 * rule). Every change enters the row as it now is (its checked columns, whole) in a hash-chained,
 * append-only log, in the change's transaction. Verify folds the log and names each column of those
 * tables that is not what the log gives; the facts check reads the documents required at an
 * event's position from it.
 */

type Value = string | number | null;

interface SettingTable {
  /** The row's key as the log names it. */
  key: string;
  /** The column that names the programme. */
  programme: string;
  columns: readonly string[];
}

export const settingTables = {
  programmes: {
    key: 'CAST(id AS TEXT)',
    programme: 'id',
    columns: ['title', 'year', 'region', 'time_zone', 'fund_kopecks', 'cap_kopecks', 'min_local_share_bp', 'min_residents_share_bp', 'code', 'savings_rule'],
  },
  commission_settings: { key: 'CAST(programme_id AS TEXT)', programme: 'programme_id', columns: ['criteria', 'quorum', 'partial_award'] },
  programme_deadlines: { key: 'CAST(programme_id AS TEXT)', programme: 'programme_id', columns: ['review_days', 'answer_days', 'remind_days'] },
  document_requirements: {
    key: "programme_id || '/' || project_type || '/' || kind",
    programme: 'programme_id',
    columns: ['programme_id', 'project_type', 'kind', 'required', 'file_types', 'max_bytes'],
  },
  // Which kinds of an application's documents the public portal publishes (issue 15).
  programme_public_settings: { key: 'CAST(programme_id AS TEXT)', programme: 'programme_id', columns: ['document_kinds'] },
} as const satisfies Record<string, SettingTable>;

export type SettingTableName = keyof typeof settingTables;

const subjectOf = (table: string, key: string) => `${table}:${key}`;

function rowsOf(db: Db | Database.Database, table: SettingTableName, where: 'key' | 'programme' | 'all', value?: string | number): { key: string; row: Record<string, Value> }[] {
  const spec: SettingTable = settingTables[table];
  const condition = where === 'key' ? `WHERE ${spec.key} = ?` : where === 'programme' ? `WHERE ${spec.programme} = ?` : '';
  const query = statement<unknown[], Record<string, Value> & { _key: string }>(db, `SELECT ${spec.key} AS _key, ${spec.columns.join(', ')} FROM ${table} ${condition} ORDER BY _key`);
  return (where === 'all' ? query.all() : query.all(value)).map(({ _key, ...row }) => ({ key: _key, row }));
}

/**
 * Enters one row as it now is — or its removal, when it is gone — after the change that wrote it,
 * inside that change's transaction.
 */
export function recordSetting(db: Db | Database.Database, table: SettingTableName, key: string | number, at: Date | string, actor: LogActor): void {
  const found = rowsOf(db, table, 'key', String(key))[0];
  appendChained(db, 'settings_log', { at, actor, action: found ? 'set' : 'remove', subject: subjectOf(table, String(key)), details: found ? { row: found.row } : {} });
}

/** Enters every row of a programme's settings as it now is: after its creation. */
export function recordProgrammeSettings(db: Db | Database.Database, programmeId: number, at: Date | string, actor: LogActor, action: 'set' | 'recorded' = 'set'): void {
  for (const table of Object.keys(settingTables) as SettingTableName[]) {
    for (const { key, row } of rowsOf(db, table, 'programme', programmeId)) {
      appendChained(db, 'settings_log', { at, actor, action, subject: subjectOf(table, key), details: { row } });
    }
  }
}

/** One entry of the log as the folds read it. */
export interface SettingEntry {
  table: string;
  key: string;
  /** The row after the entry; null: removed. */
  row: Record<string, Value> | null;
  recorded: boolean;
  ledgerPosition: number;
}

export function settingEntry(entry: ChainedRow): SettingEntry {
  const split = entry.subject.indexOf(':');
  const details = JSON.parse(entry.details) as { row?: Record<string, Value> };
  return {
    table: entry.subject.slice(0, split),
    key: entry.subject.slice(split + 1),
    row: entry.action === 'remove' ? null : (details.row ?? null),
    recorded: entry.action === 'recorded',
    ledgerPosition: entry.ledgerPosition,
  };
}

/**
 * The settings log's chain, and every column of the settings tables that is not what the log folds
 * to, by table, key and column; a row the log does not know (or one it has and the table lost), as
 * column `*`. `entries` are the log's entries, for the facts check.
 */
export function verifySettingsLog(db: Db): { problems: ChainProblem[]; differences: ProjectionDifference[]; entries: SettingEntry[] } {
  const { rows, problems } = readChain(db, 'settings_log');
  const entries: SettingEntry[] = [];
  const folded = new Map<string, Record<string, Value> | null>();
  for (const row of rows) {
    try {
      const entry = settingEntry(row);
      entries.push(entry);
      folded.set(row.subject, entry.row);
    } catch {
      problems.push({ kind: 'hash-mismatch', position: row.position, message: `settings log entry ${row.position} has unreadable details` });
    }
  }
  const differences: ProjectionDifference[] = [];
  for (const table of Object.keys(settingTables) as SettingTableName[]) {
    for (const { key, row } of rowsOf(db, table, 'all')) {
      const subject = subjectOf(table, key);
      const logged = folded.get(subject);
      folded.delete(subject);
      if (!logged) {
        differences.push({ table, key, column: '*', stored: 'a row', derived: logged === null ? 'removed' : 'no entry in the settings log' });
        continue;
      }
      for (const column of settingTables[table].columns) {
        const stored = row[column] ?? null;
        const derived = logged[column] ?? null;
        if (stored !== derived) differences.push({ table, key, column, stored, derived });
      }
    }
  }
  for (const [subject, row] of folded) {
    if (row === null) continue;
    const split = subject.indexOf(':');
    differences.push({ table: subject.slice(0, split), key: subject.slice(split + 1), column: '*', stored: null, derived: 'a row' });
  }
  return { problems, differences, entries };
}

/**
 * Enters, once, the settings that existed before the log did (the first open after migration
 * 0018): while the log is empty, every programme's rows as they stand, marked `recorded` — the
 * facts of events before then are not checked against them.
 */
export function recordExistingSettings(db: Db): void {
  const sqlite = db.$client;
  if (statement<[], { n: number }>(sqlite, 'SELECT count(*) AS n FROM settings_log').get()!.n > 0) return;
  const programmeIds = statement<[], { id: number }>(sqlite, 'SELECT id FROM programmes ORDER BY id').all();
  if (programmeIds.length === 0) return;
  const at = new Date();
  sqlite.transaction(() => {
    for (const { id } of programmeIds) recordProgrammeSettings(sqlite, id, at, null, 'recorded');
  }).immediate();
}
