import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventObject, type StateValue } from 'xstate';
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

/**
 * One inert actor scope per machine, for the pure transitions below. xstate's own `transition()`
 * and `initialTransition()` make a new inert actor for every call, and making one computes the
 * machine's initial snapshot — its whole initial context — each time: an eighth of a write's CPU
 * (issue 18). The scope is stateless (it defers, logs, emits and executes nothing; our machines
 * spawn and invoke no actors), so one serves every call; the actions a transition returns are
 * not executed by the engine anyway.
 */
const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();

function inertScope(machine: AnyStateMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = { self, defer: () => {}, id: '', logger: () => {}, sessionId: '', stopChild: () => {}, system: self.system, emit: () => {}, actionExecutor: () => {} } as unknown as AnyActorScope;
    scopes.set(machine, scope);
  }
  return scope;
}

/** The snapshot after `event`, as xstate's pure `transition()` computes it (the same `machine.transition`), without an actor per call. */
export function nextSnapshot(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject): AnyMachineSnapshot {
  return machine.transition(snapshot, event, inertScope(machine)) as AnyMachineSnapshot;
}

/** The first snapshot of a stream, as `initialTransition()` computes it, without an actor per call. */
export function firstSnapshot(machine: AnyStateMachine, input: unknown): AnyMachineSnapshot {
  return machine.getInitialSnapshot(inertScope(machine), input) as AnyMachineSnapshot;
}
