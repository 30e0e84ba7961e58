import type { Db } from '../db/client.ts';
import { decisionDifferences } from './decision-check.ts';
import { factDifferences } from './facts-check.ts';
import { verifySecurityLog } from '../accounts/security-log.ts';
import { verifySettingsLog } from './settings-log.ts';
import type { LedgerProblem } from './replay.ts';
import type { ProjectionDifference } from './projections.ts';

/**
 * The checks verify runs after its pass over the streams (issue 17.2), each in its own module so
 * that the pass stays lean: the commission's decision records against the seals in their events.
 * `heads` is the head after every prefix of the log, with the prefix's length.
 */
export function recordProblems(db: Db, heads: Map<string, number>): LedgerProblem[] {
  const problems: LedgerProblem[] = [];
  for (const difference of decisionDifferences(db, heads)) {
    problems.push({ stream: '*', seq: null, kind: 'projection-mismatch', message: recordMessage(difference), projection: difference });
  }
  const settings = verifySettingsLog(db);
  for (const problem of settings.problems) problems.push({ stream: 'settings_log', seq: problem.position, kind: problem.kind, message: problem.message });
  for (const difference of settings.differences) {
    problems.push({ stream: 'settings_log', seq: null, kind: 'projection-mismatch', message: recordMessage(difference, 'the settings log'), projection: difference });
  }
  for (const { stream, seq, position, ...difference } of factDifferences(db, settings.entries)) {
    problems.push({
      stream,
      seq,
      kind: 'fact-mismatch',
      message: `event ${seq} of ${stream} (position ${position}) recorded ${difference.column.replace('facts.', '')} ${difference.stored}; the streams gave ${difference.derived} there`,
      projection: difference,
    });
  }
  const security = verifySecurityLog(db);
  for (const problem of security.problems) problems.push({ stream: 'security_log', seq: problem.position, kind: problem.kind, message: problem.message });
  for (const difference of security.differences) {
    problems.push({ stream: 'security_log', seq: null, kind: 'projection-mismatch', message: recordMessage(difference, 'the security log'), projection: difference });
  }
  return problems;
}

/** What a difference of a record says: its table and key, the column, both values; a row missing or unknown to its log. */
function recordMessage(d: ProjectionDifference, source = 'the ledger'): string {
  if (d.column === '*') return d.stored === null ? `${d.table} ${d.key}: the row is missing, ${source} has it` : `${d.table} ${d.key}: the row is there, ${source} gives ${String(d.derived)}`;
  return `${d.table} ${d.key}: ${d.column} is ${JSON.stringify(d.stored)}, ${source} gives ${JSON.stringify(d.derived)}`;
}
