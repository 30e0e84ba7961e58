import { BackupError, restoreBackup } from '../backup/backup.ts';
import { databasePath } from '../config.ts';

/**
 * `npm run restore -- <dir> [--check]`: checks a backup made by `npm run backup` (the file against
 * its SHA-256, every chain, replay and document against the anchor taken with it) and puts it in
 * place of DATABASE_PATH, with its documents beside it; the database that was there is kept
 * beside it, renamed. `--check` only checks (a restore drill). Refuses while a server has the
 * database open. Exit 0 when restored (or checked), 1 when the backup fails its check, 2 when refused.
 */
const args = process.argv.slice(2);
const check = args.includes('--check');
const positional = args.filter((arg) => arg !== '--check');
if (positional.length !== 1 || positional[0]!.startsWith('-')) {
  console.error('Usage: npm run restore -- <dir> [--check]   (DATABASE_PATH is where the backup goes, default data/isu-ib.sqlite)');
  process.exit(2);
}
try {
  await restoreBackup(positional[0]!, databasePath(), { check, log: (line) => console.log(line) });
  console.log(check ? 'OK: the backup is sound and can be restored' : 'OK: restored; start the server');
} catch (error) {
  if (!(error instanceof BackupError)) throw error;
  for (const problem of error.problems) console.error(`PROBLEM ${problem}`);
  console.error(`FAILED: ${error.message}`);
  process.exit(error.exitCode);
}
