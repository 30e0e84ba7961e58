import { initialTransition, transition, type AnyMachineSnapshot, type StateValue } from 'xstate';
import { sql } from 'drizzle-orm';
import type { ZodError } from 'zod';
import type { Db } from '../db/client.ts';
import { events, streams } from '../db/schema.ts';
import type { FieldProblem } from '../domain/application.ts';
import type { Actor } from '../domain/roles.ts';
import { defaultRegistry, type MachineRegistry, type RegisteredMachine } from '../../machines/registry.ts';
import { ConflictError, ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from './errors.ts';
import { GENESIS_HASH, canonicalJson, hashEvent } from './ledger.ts';
import { currentMachine } from './versions.ts';

export type StreamRow = typeof streams.$inferSelect;
export type EventRow = typeof events.$inferSelect;

/** What a stream kind adds to the engine: the facts its guards need and the projection it keeps. */
export interface StreamHooks {
  /** Facts read from the database at the moment of the event; stored with it. */
  facts?(stream: StreamRow, type: string): Record<string, unknown>;
  /**
   * Explains why the machine refused an event: problems tied to fields (empty: no explanation),
   * or it throws a more precise refusal itself.
   */
  explainRefusal?(stream: StreamRow, snapshot: AnyMachineSnapshot, type: string, facts: Record<string, unknown>): FieldProblem[];
  /** Keeps the list projection in step, inside the same transaction. */
  project?(stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow): void;
}

export interface AppliedEvent {
  streamId: string;
  state: string;
  version: number;
  snapshot: AnyMachineSnapshot;
  event: EventRow;
}

export interface IncomingEvent {
  type: string;
  payload: unknown;
}

/** `implementation.works` for `{ implementation: 'works' }`. */
export function stateToString(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0] ?? [];
  if (key === undefined) return '';
  return child === undefined || (typeof child === 'object' && Object.keys(child).length === 0)
    ? key
    : `${key}.${stateToString(child as StateValue)}`;
}

export function persistSnapshot(entry: RegisteredMachine, snapshot: AnyMachineSnapshot): string {
  const persisted = entry.machine.getPersistedSnapshot(snapshot) as unknown as { value: StateValue; context: unknown; status: string };
  return canonicalJson({ value: persisted.value, context: persisted.context, status: persisted.status });
}

/** Restores a stored snapshot; throws when its state no longer exists in the machine. */
export function restoreSnapshot(entry: RegisteredMachine, stored: string): AnyMachineSnapshot {
  const parsed = JSON.parse(stored) as { value: StateValue; context: Record<string, unknown> };
  return entry.machine.resolveState({ value: parsed.value, context: parsed.context });
}

export function zodProblems(error: ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: issue.path.filter((p) => typeof p !== 'symbol').join('.') || 'general',
    code: issue.code,
    params: { message: issue.message },
  }));
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

function actorRecord(actor: Actor): string {
  return canonicalJson({ id: actor.id, login: actor.login, name: actor.name, role: actor.role, municipalityId: actor.municipalityId });
}

/**
 * The one write path (DESIGN §4.2). Every change of every stream goes through `create` or `apply`,
 * each one synchronous SQLite transaction: check, transition, append the chained event, swap the
 * snapshot by compare-and-swap on the version, update the projection. A refusal writes nothing.
 */
export class Engine {
  readonly registry: MachineRegistry;
  private readonly hooks = new Map<string, StreamHooks>();
  /** The engine's clock: every event's time comes from it, and tests move it. */
  readonly now: () => Date;

  private readonly selectStream;
  private readonly nextPosition;
  private readonly insertEvent;
  private readonly swapSnapshot;

  constructor(
    readonly db: Db,
    options: { registry?: MachineRegistry; now?: () => Date } = {},
  ) {
    this.registry = options.registry ?? defaultRegistry();
    this.now = options.now ?? (() => new Date());
    this.selectStream = db
      .select()
      .from(streams)
      .where(sql`${streams.id} = ${sql.placeholder('id')}`)
      .prepare();
    this.nextPosition = db.$client.prepare<[], { next: number }>('SELECT COALESCE(MAX(position), 0) + 1 AS next FROM events');
    this.insertEvent = db.insert(events).values({
      position: sql.placeholder('position'),
      streamId: sql.placeholder('streamId'),
      seq: sql.placeholder('seq'),
      type: sql.placeholder('type'),
      payload: sql.placeholder('payload'),
      facts: sql.placeholder('facts'),
      actor: sql.placeholder('actor'),
      at: sql.placeholder('at'),
      fromState: sql.placeholder('fromState'),
      toState: sql.placeholder('toState'),
      machineId: sql.placeholder('machineId'),
      machineVersion: sql.placeholder('machineVersion'),
      prevHash: sql.placeholder('prevHash'),
      hash: sql.placeholder('hash'),
    }).prepare();
    this.swapSnapshot = db
      .update(streams)
      .set({
        state: sql`${sql.placeholder('state')}`,
        snapshot: sql`${sql.placeholder('snapshot')}`,
        version: sql`${sql.placeholder('version')}`,
        headHash: sql`${sql.placeholder('headHash')}`,
        updatedAt: sql`${sql.placeholder('updatedAt')}`,
        machineVersion: sql`${sql.placeholder('machineVersion')}`,
      })
      .where(sql`${streams.id} = ${sql.placeholder('id')} AND ${streams.version} = ${sql.placeholder('expectedVersion')}`)
      .prepare();
  }

  /** Registers what a kind of stream (by its machine id) adds to the write path. */
  hook(machineId: string, hooks: StreamHooks): this {
    this.hooks.set(machineId, hooks);
    return this;
  }

  /** Runs `work` in one immediate transaction, so that checks and writes see the same database. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work, { behavior: 'immediate' });
  }

  loadStream(streamId: string): StreamRow | undefined {
    return this.selectStream.get({ id: streamId });
  }

  /**
   * Opens a stream with its machine's initial transition; the creation is its first event.
   * `beforeProject` lets the caller insert rows that the projection updates (inside the transaction).
   */
  create(options: {
    streamId: string;
    kind: string;
    machineId: string;
    input: Record<string, unknown>;
    actor: Actor;
    /** Facts the creation was allowed on (for example the active stages), stored with it. */
    facts?: Record<string, unknown>;
    afterCreate?: (stream: StreamRow) => void;
  }): AppliedEvent {
    const entry = this.registry.latest(options.machineId);
    if (!entry.createRoles.includes(options.actor.role)) {
      throw new ForbiddenError(`the role ${options.actor.role} may not create a ${options.kind}`);
    }
    return this.transaction(() => {
      if (this.loadStream(options.streamId)) throw new ConflictError(`${options.streamId} exists already`, { state: '', version: 0 });
      const at = this.now().toISOString();
      const payload = canonicalJson(options.input);
      const actor = actorRecord(options.actor);
      const [snapshot] = initialTransition(entry.machine, creationInput({ payload, actor, at }));
      const state = stateToString(snapshot.value);
      const position = this.nextPosition.get()!.next;
      const row: Omit<EventRow, 'hash'> = {
        position,
        streamId: options.streamId,
        seq: 1,
        type: 'create',
        payload,
        facts: canonicalJson(options.facts ?? {}),
        actor,
        at,
        fromState: null,
        toState: state,
        machineId: entry.id,
        machineVersion: entry.version,
        prevHash: GENESIS_HASH,
      };
      const event: EventRow = { ...row, hash: hashEvent(row) };
      const stream: StreamRow = {
        id: options.streamId,
        kind: options.kind,
        machineId: entry.id,
        machineVersion: entry.version,
        state,
        snapshot: persistSnapshot(entry, snapshot),
        version: 1,
        headHash: event.hash,
        updatedAt: at,
      };
      this.db.insert(streams).values(stream).run();
      this.insertEvent.run(event);
      options.afterCreate?.(stream);
      this.hooks.get(entry.id)?.project?.(stream, snapshot, event);
      return { streamId: stream.id, state, version: 1, snapshot, event };
    });
  }

  /**
   * Applies one event to one stream. `authorize` runs first, inside the transaction, to refuse
   * (as not found) a stream the actor may not see.
   */
  apply(
    streamId: string,
    incoming: IncomingEvent,
    expectedVersion: number,
    actor: Actor,
    authorize?: (stream: StreamRow) => void,
  ): AppliedEvent {
    return this.transaction(() => {
      const stream = this.loadStream(streamId);
      if (!stream) throw new NotFoundError(`${streamId} does not exist`);
      authorize?.(stream);
      const recorded = this.registry.get(stream.machineId, stream.machineVersion);
      if (!recorded) throw new NotAllowedError(`machine ${stream.machineId} version ${stream.machineVersion} is not registered`);
      const { entry, snapshot: current } = currentMachine(this.registry, recorded, stream.snapshot);
      // Own keys only: `constructor` or `__proto__` must be an unknown type, not Object's members.
      const schema = Object.hasOwn(entry.eventSchemas, incoming.type) ? entry.eventSchemas[incoming.type] : undefined;
      if (!schema) throw new NotAllowedError(`unknown event type “${incoming.type}”`, { type: incoming.type });
      if (stream.version !== expectedVersion) {
        throw new ConflictError(`the ${stream.kind} changed: version ${stream.version}, not ${expectedVersion}`, {
          state: stream.state,
          version: stream.version,
        });
      }
      if (!entry.eventRoles[incoming.type]?.includes(actor.role)) {
        throw new ForbiddenError(`the role ${actor.role} may not send ${incoming.type}`);
      }
      const parsed = schema.safeParse(incoming.payload ?? {});
      if (!parsed.success) throw new ValidationError(`the ${incoming.type} payload is invalid`, zodProblems(parsed.error));

      const hooks = this.hooks.get(entry.id);
      const facts = hooks?.facts?.(stream, incoming.type) ?? {};
      const at = this.now().toISOString();
      const row = {
        type: incoming.type,
        payload: canonicalJson(parsed.data),
        facts: canonicalJson(facts),
        actor: actorRecord(actor),
        at,
      };
      const [next] = transition(entry.machine, current, machineEvent(row) as never);
      if (next === current) {
        // Only a state that has a transition for the event may explain why its guard refused it.
        const declared = current._nodes.some((node) => node.ownEvents.includes(incoming.type));
        const problems = declared ? (hooks?.explainRefusal?.(stream, current, incoming.type, facts) ?? []) : [];
        if (problems.length > 0) throw new ValidationError(`${incoming.type} is refused`, problems);
        throw new NotAllowedError(`the state “${stream.state}” does not take “${incoming.type}”`, {
          state: stream.state,
          type: incoming.type,
        });
      }
      const state = stateToString(next.value);
      const version = stream.version + 1;
      const withoutHash: Omit<EventRow, 'hash'> = {
        position: this.nextPosition.get()!.next,
        streamId,
        seq: version,
        ...row,
        fromState: stream.state,
        toState: state,
        machineId: entry.id,
        machineVersion: entry.version,
        prevHash: stream.headHash,
      };
      const event: EventRow = { ...withoutHash, hash: hashEvent(withoutHash) };
      const snapshot = persistSnapshot(entry, next);
      // Compare-and-swap first: zero rows changed means someone else moved the stream on.
      const swapped = this.swapSnapshot.run({
        id: streamId,
        expectedVersion,
        state,
        snapshot,
        version,
        headHash: event.hash,
        updatedAt: at,
        machineVersion: entry.version,
      });
      if (swapped.changes !== 1) throw new ConflictError(`the ${stream.kind} changed meanwhile`, { state: stream.state, version: stream.version });
      this.insertEvent.run(event);
      const updated: StreamRow = { ...stream, state, snapshot, version, headHash: event.hash, updatedAt: at };
      hooks?.project?.(updated, next, event);
      return { streamId, state, version, snapshot: next, event };
    });
  }

  /** The event types the stream's state has a transition for, whatever their guards say. */
  eventsInState(stream: StreamRow): string[] {
    const entry = this.registry.get(stream.machineId, stream.machineVersion);
    if (!entry) return [];
    const snapshot = restoreSnapshot(entry, stream.snapshot);
    const types = new Set<string>();
    for (const node of snapshot._nodes) for (const type of node.ownEvents) types.add(type);
    return Object.keys(entry.eventSchemas).filter((type) => types.has(type));
  }
}
