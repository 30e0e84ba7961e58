import type { AnyMachineSnapshot } from 'xstate';
import type { MachineRegistry, PersistedMachineSnapshot, RegisteredMachine } from '../../machines/registry.ts';
import { NotAllowedError } from './errors.ts';
import { persistSnapshot, restoreSnapshot, stateToString } from './snapshots.ts';

/**
 * Machine versions in practice (DESIGN §4.5): a stream keeps the version it was written with,
 * and a newer version that declares `migrate` takes it over at its next event. Replay crosses
 * the same border with the same migration, so a history that spans two versions replays exactly.
 */

/** Whether a dotted state path names a state node of the machine. */
export function hasState(entry: RegisteredMachine, path: string): boolean {
  let node: { states: Record<string, unknown> } = entry.machine.root;
  for (const key of path.split('.')) {
    const next = Object.hasOwn(node.states, key) ? (node.states[key] as { states: Record<string, unknown> }) : undefined;
    if (!next) return false;
    node = next;
  }
  return path.length > 0;
}

/** What can go wrong when a snapshot crosses from one version to the next (replay reports it). */
export type MigrationProblemKind = 'replay-error' | 'unknown-machine-version' | 'unknown-state';

type Migrated = { ok: true; snapshot: AnyMachineSnapshot } | { ok: false; kind: MigrationProblemKind; message: string };

/**
 * Carries a snapshot from one machine version to a later one through each version's `migrate`,
 * then resolves it in the new machine; a state the new machine lacks is reported, not thrown.
 */
export function migrateSnapshot(registry: MachineRegistry, from: RegisteredMachine, to: RegisteredMachine, snapshot: AnyMachineSnapshot): Migrated {
  if (to.version < from.version) return { ok: false, kind: 'replay-error', message: `version ${to.version} follows version ${from.version}: a stream never goes back to an older machine` };
  let persisted = JSON.parse(persistSnapshot(from, snapshot)) as PersistedMachineSnapshot;
  for (let version = from.version + 1; version <= to.version; version += 1) {
    const step = registry.get(to.id, version);
    if (!step) return { ok: false, kind: 'unknown-machine-version', message: `machine ${to.id} version ${version} is not registered` };
    if (!step.migrate) return { ok: false, kind: 'replay-error', message: `machine ${to.id} version ${version} has no migration from version ${version - 1}` };
    try {
      persisted = step.migrate(persisted);
    } catch (error) {
      return { ok: false, kind: 'replay-error', message: `the migration to version ${version} failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  const state = stateToString(persisted.value);
  if (!hasState(to, state)) return { ok: false, kind: 'unknown-state', message: `the migrated state ${state} does not exist in ${to.id} version ${to.version}` };
  try {
    return { ok: true, snapshot: to.machine.resolveState({ value: persisted.value, context: persisted.context }) };
  } catch (error) {
    return { ok: false, kind: 'unknown-state', message: error instanceof Error ? error.message : String(error) };
  }
}


/**
 * The machine and snapshot the next event of a stream runs on: its recorded version, or the
 * newest one when that one migrates streams forward. Used by the engine's one write path.
 */
export function currentMachine(registry: MachineRegistry, recorded: RegisteredMachine, stored: string): { entry: RegisteredMachine; snapshot: AnyMachineSnapshot } {
  const snapshot = restoreSnapshot(recorded, stored);
  const newest = registry.latest(recorded.id);
  if (newest.version <= recorded.version || !newest.migrate) return { entry: recorded, snapshot };
  const migrated = migrateSnapshot(registry, recorded, newest, snapshot);
  if (!migrated.ok) throw new NotAllowedError(`the stream cannot move to version ${newest.version}: ${migrated.message}`);
  return { entry: newest, snapshot: migrated.snapshot };
}
