import { openDb } from '../db/client.ts';
import { recordExistingEntries } from '../db/existing-logs.ts';
import { databasePath } from '../config.ts';
import { loadStreamEvents, replayStream } from '../engine/replay.ts';
import type { Actor } from '../domain/roles.ts';
import { contextChanges } from '../audit/diff.ts';
import { defaultRegistry } from '../../machines/registry.ts';

/**
 * `npm run replay -- <application id>` (or a stream id such as `stage-2-5`): prints the history
 * step by step as replay rebuilds it — who, when, the event, the state it leads to, what changed —
 * then the verdict. Exits 1 when anything does not hold, 2 when there is no such application.
 */
const arg = process.argv.slice(2).find((a) => !a.startsWith('-'));
if (!arg) {
  console.error('usage: npm run replay -- <application id | stream id>');
  process.exit(2);
}
const db = recordExistingEntries(openDb({ path: databasePath() }));
const streamId = /^\d+$/.test(arg)
  ? db.$client.prepare<[number], { streamId: string }>('SELECT stream_id AS streamId FROM applications WHERE id = ?').get(Number(arg))?.streamId
  : arg;
const stream = streamId ? db.$client.prepare<[string], Record<string, unknown>>('SELECT id, kind, machine_id AS machineId, machine_version AS machineVersion, state, snapshot, version, head_hash AS headHash, updated_at AS updatedAt FROM streams WHERE id = ?').get(streamId) : undefined;
if (!streamId || !stream) {
  console.error(`no application or stream ${arg} in ${databasePath()}`);
  db.$client.close();
  process.exit(2);
}
const rows = loadStreamEvents(db, streamId);
const result = replayStream(defaultRegistry(), stream as never, rows);
db.$client.close();

const isEmpty = (value: unknown) => value === null || (Array.isArray(value) ? value.length === 0 : typeof value === 'object' && Object.keys(value as object).length === 0);
const show = (value: unknown) => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));
console.log(`${streamId}: ${rows.length} events, stored state ${String(stream.state)}, version ${String(stream.version)}`);
let before: unknown = null;
for (const step of result.steps) {
  const row = rows.find((r) => r.seq === step.seq)!;
  let actor: Partial<Actor> = {};
  try {
    actor = JSON.parse(row.actor) as Actor;
  } catch {
    // the verdict names a damaged row
  }
  const mark = step.matches ? 'ok' : 'MISMATCH';
  console.log(`\n#${step.seq}  ${step.at}  ${step.type}  by ${actor.login ?? '?'} (${actor.role ?? '?'})  v${step.machineVersion}`);
  console.log(`    ${step.from ?? '(start)'} -> ${step.replayedState ?? '(not replayed)'}  [${mark}${step.matches ? '' : `, stored ${step.to}`}]`);
  if (step.context !== null) {
    for (const change of contextChanges(before ?? {}, step.context).filter((c) => c.path !== 'programmeId' && c.path !== 'municipalityId' && !(c.before === undefined && isEmpty(c.after)))) {
      console.log(`    ${change.path}: ${show(change.before)} -> ${show(change.after)}`);
    }
    before = step.context;
  }
  console.log(`    hash ${row.hash.slice(0, 16)}…`);
}
console.log('');
for (const problem of result.problems) {
  console.log(`PROBLEM ${problem.kind} in ${problem.stream}${problem.seq === null ? '' : ` at event ${problem.seq}`}: ${problem.message}`);
}
console.log(result.ok ? `OK: all ${rows.length} events replay, the chain holds, the stored state matches` : `FAILED: ${result.problems.length} problem(s)`);
process.exit(result.ok ? 0 : 1);
