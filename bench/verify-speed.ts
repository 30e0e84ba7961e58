/**
 * Whole-ledger verify speed (issue 18.4) beside its baselines in the same run: reading the same
 * rows without checking them, and sha256 of the same bytes (every row's hashed text). Builds the
 * demo into a file, or uses `--db <path>`; `--repeat n` verifies n times.
 */
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { openDb } from '../src/db/client.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { verifyLedger } from '../src/engine/verify.ts';
import { defaultRegistry } from '../machines/registry.ts';
import { verifySpeed } from './verify-figures.ts';
import { copyStreams } from './ledger-copies.ts';

const args = process.argv.slice(2);
const at = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const path = at('--db') ?? '/tmp/isu-ib-verify.sqlite';
const repeat = Number(at('--repeat') ?? 3);
const fresh = !existsSync(path);
const db = openDb({ path });
if (fresh) {
  await seedDemo(db);
  const copies = Number(at('--copies') ?? 0);
  if (copies > 0) {
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    const grown = copyStreams(path, copies);
    console.log(`${grown.events} events copied in ${grown.ms.toFixed(0)} ms`);
  }
}
if (args.includes('--only-verify')) {
  for (let i = 0; i < repeat; i += 1) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = verifyLedger(db, defaultRegistry());
    const cpu = process.cpuUsage(c0);
    console.log(`verify ${r.events} events ok=${r.ok} ${(performance.now() - t0).toFixed(0)} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
  }
} else {
  verifySpeed(db, repeat);
}
db.$client.close();
