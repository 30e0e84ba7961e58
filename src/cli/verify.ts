import { openDb } from '../db/client.ts';
import { ledgerAnchor, verifyLedger, type LedgerAnchor } from '../engine/replay.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { defaultRegistry } from '../../machines/registry.ts';
import { databasePath } from '../config.ts';

/**
 * `npm run verify [-- --head <hash>]`: replays every stream, checks every chain, prints the ledger
 * head to anchor outside, and exits 1 when anything is wrong, naming it.
 * `--save-anchor <file>` writes the head with every stream's length and last hash, to keep outside;
 * `--anchor <file>` checks against such a file and names the stream and event of a cut tail.
 */
const args = process.argv.slice(2);
const headIndex = args.indexOf('--head');
const expectedHead = headIndex >= 0 ? args[headIndex + 1] : undefined;
const anchorIndex = args.indexOf('--anchor');
const anchor = anchorIndex >= 0 ? (JSON.parse(readFileSync(args[anchorIndex + 1] ?? '', 'utf8')) as LedgerAnchor) : undefined;
const db = openDb({ path: databasePath() });
const report = verifyLedger(db, defaultRegistry(), { ...(expectedHead ? { expectedHead } : {}), ...(anchor ? { anchor } : {}) });
const saveIndex = args.indexOf('--save-anchor');
if (saveIndex >= 0) writeFileSync(args[saveIndex + 1] ?? 'ledger-anchor.json', `${JSON.stringify(ledgerAnchor(db), null, 2)}\n`);
db.$client.close();
if (args.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`streams: ${report.streams}`);
  console.log(`events:  ${report.events}`);
  console.log(`head:    ${report.head}`);
  for (const problem of report.problems) {
    console.log(`PROBLEM ${problem.kind} in ${problem.stream}${problem.seq === null ? '' : ` at event ${problem.seq}`}: ${problem.message}`);
  }
  console.log(report.ok ? 'OK: every stream replays and every chain holds' : `FAILED: ${report.problems.length} problem(s)`);
}
process.exit(report.ok ? 0 : 1);
