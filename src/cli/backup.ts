import { BackupError, backupDatabase } from '../backup/backup.ts';
import { databasePath } from '../config.ts';

/**
 * `npm run backup -- <dir>`: a consistent copy of the running database (DATABASE_PATH), the
 * documents its events name and the ledger anchor, in a new folder. Safe while the server runs.
 * Exit 0 when the backup is complete, 1 when the live record is not whole, 2 on bad usage.
 */
const [dir, ...rest] = process.argv.slice(2);
if (!dir || dir.startsWith('-') || rest.length > 0) {
  console.error('Usage: npm run backup -- <dir>   (a new or empty folder; DATABASE_PATH chooses the database, default data/isu-ib.sqlite)');
  process.exit(2);
}
try {
  await backupDatabase(databasePath(), dir, { log: (line) => console.log(line) });
  console.log('OK: the backup is complete; check it with npm run restore -- <dir> --check');
} catch (error) {
  if (!(error instanceof BackupError)) throw error;
  for (const problem of error.problems) console.error(`PROBLEM ${problem}`);
  console.error(`FAILED: ${error.message}`);
  process.exit(error.exitCode);
}
