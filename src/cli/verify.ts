import { openDb } from '../db/client.ts';
import { recordExistingEntries } from '../db/existing-logs.ts';
import { ledgerAnchor, type LedgerAnchor } from '../engine/verify.ts';
import { verifyLedgerAndDocuments } from '../workflows/documents/check.ts';
import { DocumentStore, documentsDirFor } from '../workflows/documents/store.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { defaultRegistry } from '../../machines/registry.ts';
import { databasePath } from '../config.ts';

/**
 * `npm run verify [-- --head <hash>]`: replays every stream, checks every chain and every stored
 * document file against the hash its event recorded (in `documents/` beside the database, where the
 * app keeps them), prints the ledger head to anchor outside, and exits 1 when anything is wrong,
 * naming it.
 * `--save-anchor <file>` writes the head with every stream's length and last hash, to keep outside;
 * `--anchor <file>` checks against such a file and names the stream and event of a cut tail.
 */
const args = process.argv.slice(2);
const headIndex = args.indexOf('--head');
const expectedHead = headIndex >= 0 ? args[headIndex + 1] : undefined;
const anchorIndex = args.indexOf('--anchor');
const anchor = anchorIndex >= 0 ? (JSON.parse(readFileSync(args[anchorIndex + 1] ?? '', 'utf8')) as LedgerAnchor) : undefined;
const db = recordExistingEntries(openDb({ path: databasePath() }));
const store = new DocumentStore(documentsDirFor(db));
const report = await verifyLedgerAndDocuments(db, defaultRegistry(), store, { ...(expectedHead ? { expectedHead } : {}), ...(anchor ? { anchor } : {}) });
const saveIndex = args.indexOf('--save-anchor');
if (saveIndex >= 0) writeFileSync(args[saveIndex + 1] ?? 'ledger-anchor.json', `${JSON.stringify(ledgerAnchor(db), null, 2)}\n`);
db.$client.close();
if (args.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`streams: ${report.streams}`);
  console.log(`events:  ${report.events}`);
  console.log(`head:    ${report.head}`);
  console.log(`documents: ${report.documents} attached file(s) checked in ${store.root}`);
  for (const problem of report.problems) {
    const file = problem.file ? ` [file ${store.pathOf(problem.file.sha256)}]` : '';
    console.log(`PROBLEM ${problem.kind} in ${problem.stream}${problem.seq === null ? '' : ` at event ${problem.seq}`}: ${problem.message}${file}`);
  }
  console.log(report.ok ? 'OK: every stream replays and every chain holds, and every document file is the one its event names' : `FAILED: ${report.problems.length} problem(s)`);
}
process.exit(report.ok ? 0 : 1);
