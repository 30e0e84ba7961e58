import type { Db } from '../db/client.ts';
import { decisionDifferences } from './decision-check.ts';
import { factDifferences } from './facts-check.ts';
import { verifySecurityLog } from '../accounts/security-log.ts';
import type { LedgerProblem } from './replay.ts';
import { projectionMessage } from './verify.ts';

/**
 * The checks verify runs after its pass over the streams (issue 17.2), each in its own module so
 * that the pass stays lean: the commission's decision records against the seals in their events.
 * `heads` is the head after every prefix of the log, with the prefix's length.
 */
export function recordProblems(db: Db, heads: Map<string, number>): LedgerProblem[] {
  const problems: LedgerProblem[] = [];
  for (const difference of decisionDifferences(db, heads)) {
    problems.push({ stream: '*', seq: null, kind: 'projection-mismatch', message: projectionMessage(difference), projection: difference });
  }
  for (const { stream, seq, position, ...difference } of factDifferences(db)) {
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
    problems.push({ stream: 'security_log', seq: null, kind: 'projection-mismatch', message: projectionMessage(difference), projection: difference });
  }
  return problems;
}
