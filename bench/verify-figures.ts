import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Db } from '../src/db/client.ts';
import { canonicalJson } from '../src/engine/ledger.ts';
import { EVENT_COLUMNS } from '../src/engine/replay.ts';
import { verifyLedger } from '../src/engine/verify.ts';
import { defaultRegistry } from '../machines/registry.ts';

/** The target of issue 18.4: a million events verified in about five seconds. */
export const VERIFY_TARGET_PER_SECOND = 200_000;

export interface VerifySpeed {
  events: number;
  /** Events a second: a whole-ledger verify, reading the rows without checking them, sha256 of the bytes verify hashes. */
  verify: number;
  read: number;
  sha256: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Whole-ledger verify in events a second, beside two baselines of the same run on the same
 * database: the same rows read in one pass without any check (what SQLite and better-sqlite3 cost),
 * and sha256 over the very bytes verify hashes for each event's chain (what the hashing alone costs).
 * Medians of `repeat` runs. Prints the figures and their ratios, and returns them.
 */
export function verifySpeed(db: Db, repeat = 3): VerifySpeed {
  const registry = defaultRegistry();
  const rows = db.$client.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY position`);
  const texts: string[] = [];
  for (const row of rows.iterate() as Iterable<Record<string, unknown>>) {
    const { prevHash, hash: _hash, ...rest } = row;
    texts.push(String(prevHash) + canonicalJson(rest));
  }
  const events = texts.length;
  const times = { verify: [] as number[], read: [] as number[], sha256: [] as number[] };
  let ok = true;
  for (let i = 0; i < repeat; i += 1) {
    let t0 = performance.now();
    let n = 0;
    for (const _row of rows.iterate()) n += 1;
    times.read.push(performance.now() - t0);
    t0 = performance.now();
    for (const text of texts) createHash('sha256').update(text).digest('hex');
    times.sha256.push(performance.now() - t0);
    t0 = performance.now();
    ok = verifyLedger(db, registry).ok && ok;
    times.verify.push(performance.now() - t0);
  }
  const rate = (ms: number[]) => Math.round(events / (median(ms) / 1000));
  const speed = { events, verify: rate(times.verify), read: rate(times.read), sha256: rate(times.sha256) };
  const n = (v: number) => v.toLocaleString('en-US');
  console.log(`verify, whole ledger of ${n(events)} events (ok=${ok}), medians of ${repeat}:`);
  console.log(`  verify            ${n(speed.verify).padStart(10)} events/s  (${median(times.verify).toFixed(0)} ms) — target ${n(VERIFY_TARGET_PER_SECOND)}: ${speed.verify >= VERIFY_TARGET_PER_SECOND ? 'reached' : 'NOT reached'}`);
  console.log(`  read rows only    ${n(speed.read).padStart(10)} events/s  (${median(times.read).toFixed(0)} ms)   verify/read   ${(speed.verify / speed.read).toFixed(2)}×`);
  console.log(`  sha256 of bytes   ${n(speed.sha256).padStart(10)} events/s  (${median(times.sha256).toFixed(0)} ms)   verify/sha256 ${(speed.verify / speed.sha256).toFixed(2)}×`);
  return speed;
}
