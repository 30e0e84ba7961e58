import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Db } from '../src/db/client.ts';
import { canonicalJson } from '../src/engine/ledger.ts';
import { EVENT_COLUMNS, STREAM_COLUMNS, replayStream } from '../src/engine/replay.ts';
import { projectionRows } from '../src/engine/projections.ts';
import type { EventRow, StreamRow } from '../src/engine/rows.ts';
import { saveCheckpoints, verifyLedger, verifyWithCheckpoints } from '../src/engine/verify.ts';
import { defaultRegistry } from '../machines/registry.ts';

/** The target of issue 18.4: a million events verified in about five seconds. */
export const VERIFY_TARGET_PER_SECOND = 200_000;

export interface VerifySpeed {
  events: number;
  /** Events a second: a whole-ledger verify, reading the rows without checking them, sha256 of the bytes verify hashes. */
  verify: number;
  read: number;
  sha256: number;
  /** An incremental verify with every stream checkpointed and nothing appended: the order, gaps and head of every event, no replay. */
  incremental: number;
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
  // Its parts, each alone over the same log (issue 18.4: which part is slow): the replay of every
  // stream (chain, hashes, the machine, the snapshot) from rows already read, and the projections'
  // re-derivation from the stored snapshots.
  const streamRows = db.$client.prepare<[], StreamRow>(`SELECT ${STREAM_COLUMNS} FROM streams ORDER BY id`).all();
  const byStream = new Map<string, EventRow[]>();
  for (const row of db.$client.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY stream_id, seq`).all()) {
    const list = byStream.get(row.streamId);
    if (list) list.push(row);
    else byStream.set(row.streamId, [row]);
  }
  const parts = { replay: [] as number[], projections: [] as number[] };
  for (let i = 0; i < repeat; i += 1) {
    let t0 = performance.now();
    for (const stream of streamRows) replayStream(registry, stream, byStream.get(stream.id) ?? []);
    parts.replay.push(performance.now() - t0);
    t0 = performance.now();
    const projected = projectionRows(db);
    for (const stream of streamRows) {
      const rows = byStream.get(stream.id) ?? [];
      projected.differences({ id: stream.id, machineId: stream.machineId, snapshot: stream.snapshot, length: rows.length, lastAt: rows.at(-1)?.at ?? '' });
    }
    parts.projections.push(performance.now() - t0);
  }
  byStream.clear();
  // The incremental verify, every stream checkpointed by a full one and nothing appended since.
  saveCheckpoints(db, verifyWithCheckpoints(db, registry).checkpoints);
  const incremental: number[] = [];
  for (let i = 0; i < repeat; i += 1) {
    const t0 = performance.now();
    ok = verifyLedger(db, registry, { incremental: true }).ok && ok;
    incremental.push(performance.now() - t0);
  }
  const rate = (ms: number[]) => Math.round(events / (median(ms) / 1000));
  const speed = { events, verify: rate(times.verify), read: rate(times.read), sha256: rate(times.sha256), incremental: rate(incremental) };
  const n = (v: number) => v.toLocaleString('en-US');
  console.log(`verify, whole ledger of ${n(events)} events (ok=${ok}), medians of ${repeat}:`);
  console.log(`  verify            ${n(speed.verify).padStart(10)} events/s  (${median(times.verify).toFixed(0)} ms) — target ${n(VERIFY_TARGET_PER_SECOND)}: ${speed.verify >= VERIFY_TARGET_PER_SECOND ? 'reached' : 'NOT reached'}`);
  console.log(`  read rows only    ${n(speed.read).padStart(10)} events/s  (${median(times.read).toFixed(0)} ms)   verify/read   ${(speed.verify / speed.read).toFixed(2)}×`);
  console.log(`  sha256 of bytes   ${n(speed.sha256).padStart(10)} events/s  (${median(times.sha256).toFixed(0)} ms)   verify/sha256 ${(speed.verify / speed.sha256).toFixed(2)}×`);
  console.log(`  incremental       ${n(speed.incremental).padStart(10)} events/s  (${median(incremental).toFixed(0)} ms)   every stream checkpointed, nothing appended: order, gaps and head of every event, no replay`);
  console.log(`  of which: replaying the streams ${median(parts.replay).toFixed(0)} ms, re-deriving the projections ${median(parts.projections).toFixed(0)} ms (each alone, rows already read)`);
  return speed;
}
