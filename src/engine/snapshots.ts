import type { AnyMachineSnapshot, StateValue } from 'xstate';
import type { Actor } from '../domain/roles.ts';
import type { PersistedMachineSnapshot, RegisteredMachine } from '../../machines/registry.ts';
import { canonicalJson } from './ledger.ts';
import type { EventRow } from './rows.ts';

/** `implementation.works` for `{ implementation: 'works' }`. */
export function stateToString(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0] ?? [];
  if (key === undefined) return '';
  return child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? key : `${key}.${stateToString(child as StateValue)}`;
}

/** The snapshot as the streams table stores it: canonical JSON of its value, context and status. */
export function persistSnapshot(entry: RegisteredMachine, snapshot: AnyMachineSnapshot): string {
  const persisted = entry.machine.getPersistedSnapshot(snapshot) as unknown as PersistedMachineSnapshot;
  return canonicalJson({ value: persisted.value, context: persisted.context, status: persisted.status });
}

/** Restores a stored snapshot; throws when its state no longer exists in the machine. */
export function restoreSnapshot(entry: RegisteredMachine, stored: string): AnyMachineSnapshot {
  const parsed = JSON.parse(stored) as { value: StateValue; context: Record<string, unknown> };
  return entry.machine.resolveState({ value: parsed.value, context: parsed.context });
}

/** The machine event: who and when travel with the payload and the facts, so that replay sees them too. */
export function machineEvent(row: Pick<EventRow, 'type' | 'payload' | 'facts' | 'actor' | 'at'>) {
  return {
    type: row.type,
    payload: JSON.parse(row.payload) as unknown,
    facts: JSON.parse(row.facts) as unknown,
    actor: JSON.parse(row.actor) as Actor,
    at: row.at,
  };
}

/** The input of a stream's initial transition, rebuilt from its first event. */
export function creationInput(row: Pick<EventRow, 'payload' | 'actor' | 'at'>) {
  return { ...(JSON.parse(row.payload) as object), actor: JSON.parse(row.actor) as Actor, at: row.at };
}

/** The event types a snapshot's active state nodes have a transition for, whatever their guards say. */
export function declaredEvents(snapshot: AnyMachineSnapshot): Set<string> {
  const types = new Set<string>();
  for (const node of snapshot._nodes) for (const type of node.ownEvents) types.add(type);
  return types;
}
