import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../db/client.ts';
import { isBlocking, zodProblems, type FieldProblem, type Problem } from '../domain/problems.ts';
import type { Actor } from '../domain/roles.ts';
import { defaultRegistry, type MachineRegistry, type RegisteredMachine } from '../../machines/registry.ts';
import { ConflictError, ForbiddenError, NotAllowedError, NotFoundError, ValidationError, type DomainError } from './errors.ts';
import { GroupCommit, type GroupCommitOptions } from './group-commit.ts';
import { GENESIS_HASH, canonicalJson, hashEvent } from './ledger.ts';
import type { EventRow, StreamRow } from './rows.ts';
import { creationInput, declaredEvents, firstSnapshot, machineEvent, nextSnapshot, persistSnapshot, stateToString } from './snapshots.ts';
import { currentMachine } from './versions.ts';

export type { EventRow, StreamRow } from './rows.ts';

/**
 * What a workflow kind adds to the generic write path (DESIGN §4.2): who may see its streams,
 * the facts its guards read (computed at the moment of the event and stored with it), and the
 * projection it keeps in the same transaction. Its rules stay in its machine (`whyNot`).
 */
export interface StreamKind {
  /** The machine the kind's streams run on (its id in the registry). */
  machineId: string;
  /** Whether the actor may see the stream at all; a stream they may not is "not found". */
  maySee?(stream: StreamRow, actor: Actor): boolean;
  /**
   * Facts read from the database for an event of this type; stored with the event. `payload` is
   * the validated payload when the event is sent, absent when a page only asks what it may offer
   * (a rule about whom an event names — an assignee — reads the facts about that one).
   */
  facts?(stream: StreamRow, type: string, payload?: unknown): Record<string, unknown>;
  /** Keeps the kind's tables in step with the stream, inside the event's transaction. */
  project?(stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow): void;
}

/**
 * Called inside the transaction of every event the engine writes, after its projection: what it
 * writes commits or rolls back with the event (a transactional outbox, say). It must not throw
 * for anything but a fault that should refuse the event too.
 */
export type EventListener = (stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) => void;

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

/** An event the stream's state takes and the actor's role may send, with what its rules say now. */
export interface EventOption {
  type: string;
  /** Blocking problems mean it would be refused whatever is sent; field problems, what to fix first. */
  problems: Problem[];
  /** No blocking problem: offer it. */
  open: boolean;
}

function actorRecord(actor: Actor): string {
  return canonicalJson({ id: actor.id, login: actor.login, name: actor.name, role: actor.role, municipalityId: actor.municipalityId });
}

/**
 * The refusal the machine's problems amount to: a blocking one (no field) is a NotAllowedError
 * whose reason is its code; otherwise every field problem, beside its field.
 */
export function refusal(type: string, problems: Problem[]): DomainError {
  const blocking = problems.find(isBlocking);
  if (blocking) return new NotAllowedError(`${type} is refused: ${blocking.code}`, blocking.params ?? {}, blocking.code, problems.filter(isBlocking));
  return new ValidationError(`${type} is refused`, problems as FieldProblem[]);
}

/**
 * The one write path (DESIGN §4.2). Every change of every stream goes through `create` or `apply`,
 * each one synchronous SQLite transaction: check, transition, append the chained event, write the
 * snapshot, update the projection. A refusal writes nothing.
 * It knows streams, machines and the chain; what a kind of stream means lives in its workflow.
 */
export class Engine {
  readonly registry: MachineRegistry;
  private readonly kinds = new Map<string, StreamKind>();
  private readonly listeners: EventListener[] = [];
  /** The engine's clock: every event's time comes from it, and tests move it. */
  readonly now: () => Date;

  private readonly selectStream;
  private readonly nextPosition;
  private readonly insertStream;
  private readonly insertEvent;
  private readonly writeSnapshot;

  /** Writes that arrive together, committed in one transaction (`write`). */
  readonly commits: GroupCommit;
  /** `work` in one BEGIN IMMEDIATE transaction, or in a savepoint of the one already open. */
  private readonly immediate: (work: () => unknown) => unknown;

  constructor(
    readonly db: Db,
    options: { registry?: MachineRegistry; now?: () => Date; groupCommit?: GroupCommitOptions } = {},
  ) {
    this.registry = options.registry ?? defaultRegistry();
    this.now = options.now ?? (() => new Date());
    const sqlite = db.$client;
    this.commits = new GroupCommit(sqlite, options.groupCommit);
    // One wrapper for the engine's life: drizzle's `db.transaction` builds one per call.
    this.immediate = sqlite.transaction((work: () => unknown) => work()).immediate;
    this.selectStream = sqlite.prepare<[string], StreamRow>(
      'SELECT id, kind, machine_id AS machineId, machine_version AS machineVersion, state, snapshot, version, head_hash AS headHash, updated_at AS updatedAt FROM streams WHERE id = ?',
    );
    this.nextPosition = sqlite.prepare<[], { next: number }>('SELECT COALESCE(MAX(position), 0) + 1 AS next FROM events');
    this.insertStream = sqlite.prepare<[StreamRow]>(
      'INSERT INTO streams (id, kind, machine_id, machine_version, state, snapshot, version, head_hash, updated_at) VALUES (@id, @kind, @machineId, @machineVersion, @state, @snapshot, @version, @headHash, @updatedAt)',
    );
    this.insertEvent = sqlite.prepare<[EventRow]>(
      `INSERT INTO events (position, stream_id, seq, type, payload, facts, actor, at, from_state, to_state, machine_id, machine_version, prev_hash, hash)
       VALUES (@position, @streamId, @seq, @type, @payload, @facts, @actor, @at, @fromState, @toState, @machineId, @machineVersion, @prevHash, @hash)`,
    );
    this.writeSnapshot = sqlite.prepare<[{ id: string; state: string; snapshot: string; version: number; headHash: string; updatedAt: string; machineVersion: number }]>(
      `UPDATE streams SET state = @state, snapshot = @snapshot, version = @version, head_hash = @headHash, updated_at = @updatedAt, machine_version = @machineVersion
       WHERE id = @id`,
    );
  }

  /** Registers what a kind of stream adds to the write path. */
  register(kind: StreamKind): this {
    this.kinds.set(kind.machineId, kind);
    return this;
  }

  /** Adds a listener that sees every event written, inside its transaction. */
  onEvent(listener: EventListener): this {
    this.listeners.push(listener);
    return this;
  }

  private announce(stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow): void {
    for (const listener of this.listeners) listener(stream, snapshot, event);
  }

  /** Runs `work` in one immediate transaction, so that checks and writes see the same database. */
  transaction<T>(work: () => T): T {
    return this.immediate(work) as T;
  }

  /**
   * Runs `work` — a command made of `create`/`apply` calls — in the next group commit: it shares
   * one transaction and one fsync with the other writes of the same turn of the event loop, in a
   * savepoint of its own, and the promise settles once that transaction has committed. What the
   * HTTP routes use; `transaction` stays for callers that must write at once (the seed, the CLIs).
   */
  write<T>(work: () => T): Promise<T> {
    return this.commits.run(work);
  }

  loadStream(streamId: string): StreamRow | undefined {
    return this.selectStream.get(streamId);
  }

  /**
   * Opens a stream with its machine's initial transition; the creation is its first event.
   * `afterCreate` lets the caller insert rows that the projection updates (inside the transaction).
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
      const problems = entry.whyNotCreate?.(options.input, options.facts ?? {}, options.actor) ?? [];
      if (problems.length > 0) throw refusal('create', problems);
      if (this.loadStream(options.streamId)) throw new ConflictError(`${options.streamId} exists already`, { state: '', version: 0 });
      const at = this.now().toISOString();
      const payload = canonicalJson(options.input);
      const actor = actorRecord(options.actor);
      const snapshot = firstSnapshot(entry.machine, creationInput({ payload, actor, at }));
      const state = stateToString(snapshot.value);
      const row: Omit<EventRow, 'hash'> = {
        position: this.nextPosition.get()!.next,
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
      this.insertStream.run(stream);
      this.insertEvent.run(event);
      options.afterCreate?.(stream);
      this.kinds.get(entry.id)?.project?.(stream, snapshot, event);
      this.announce(stream, snapshot, event);
      return { streamId: stream.id, state, version: 1, snapshot, event };
    });
  }

  /** The stream and the machine its next event runs on, or the refusal a visitor gets. */
  private open(streamId: string, actor: Actor): { stream: StreamRow; entry: RegisteredMachine; current: AnyMachineSnapshot; kind: StreamKind | undefined } {
    const stream = this.loadStream(streamId);
    if (!stream) throw new NotFoundError(`${streamId} does not exist`);
    const recorded = this.registry.get(stream.machineId, stream.machineVersion);
    if (!recorded) throw new NotAllowedError(`machine ${stream.machineId} version ${stream.machineVersion} is not registered`);
    const kind = this.kinds.get(recorded.id);
    if (kind?.maySee && !kind.maySee(stream, actor)) throw new NotFoundError(`${streamId} does not exist`);
    const { entry, snapshot } = currentMachine(this.registry, recorded, stream.snapshot);
    return { stream, entry, current: snapshot, kind };
  }

  /**
   * Applies one event to one stream. `channel` names the path that sends it: an event its machine
   * reserves for one path (an upload, the commission's decision) is refused on any other.
   * `facts` are stored beside the kind's own, for what the event seals (the commission's decision
   * record, issue 17.2); they cannot replace a fact the kind reads.
   */
  apply(streamId: string, incoming: IncomingEvent, expectedVersion: number, actor: Actor, options: { channel?: string; facts?: Record<string, unknown> } = {}): AppliedEvent {
    return this.transaction(() => {
      const { stream, entry, current, kind } = this.open(streamId, actor);
      // Own keys only: `constructor` or `__proto__` must be an unknown type, not Object's members.
      const schema = Object.hasOwn(entry.eventSchemas, incoming.type) ? entry.eventSchemas[incoming.type] : undefined;
      if (!schema) throw new NotAllowedError(`unknown event type “${incoming.type}”`, { type: incoming.type });
      const reserved = entry.channels?.[incoming.type];
      if (reserved && reserved.channel !== options.channel) {
        this.assertRole(entry, incoming.type, actor);
        throw new NotAllowedError(`${incoming.type} is sent only by ${reserved.channel}`, { type: incoming.type }, reserved.reason);
      }
      if (stream.version !== expectedVersion) {
        throw new ConflictError(`the ${stream.kind} changed: version ${stream.version}, not ${expectedVersion}`, { state: stream.state, version: stream.version });
      }
      this.assertRole(entry, incoming.type, actor);
      const parsed = schema.safeParse(incoming.payload ?? {});
      if (!parsed.success) throw new ValidationError(`the ${incoming.type} payload is invalid`, zodProblems(parsed.error));

      const facts = { ...options.facts, ...(kind?.facts?.(stream, incoming.type, parsed.data) ?? {}) };
      const at = this.now().toISOString();
      const row = { type: incoming.type, payload: canonicalJson(parsed.data), facts: canonicalJson(facts), actor: actorRecord(actor), at };
      const event = machineEvent(row);
      const next = nextSnapshot(entry.machine, current, event as never);
      if (next === current) {
        // A state that has a transition for the event says why its rules refused it.
        const problems = declaredEvents(current).has(incoming.type) ? (entry.whyNot?.(current.context, event) ?? []) : [];
        if (problems.length > 0) throw refusal(incoming.type, problems);
        throw new NotAllowedError(`the state “${stream.state}” does not take “${incoming.type}”`, { state: stream.state, type: incoming.type });
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
      const stored: EventRow = { ...withoutHash, hash: hashEvent(withoutHash) };
      const snapshot = persistSnapshot(entry, next);
      // No compare-and-swap here: the version check above ran inside this BEGIN IMMEDIATE
      // transaction, which no other connection can enter before it commits (engine.int.test.ts,
      // "a second connection cannot get between the version check and the swap"), and the events'
      // unique (stream, seq) is the database's own last word.
      this.writeSnapshot.run({ id: streamId, state, snapshot, version, headHash: stored.hash, updatedAt: at, machineVersion: entry.version });
      this.insertEvent.run(stored);
      const updated: StreamRow = { ...stream, state, snapshot, version, headHash: stored.hash, updatedAt: at, machineVersion: entry.version };
      kind?.project?.(updated, next, stored);
      this.announce(updated, next, stored);
      return { streamId, state, version, snapshot: next, event: stored };
    });
  }

  private assertRole(entry: RegisteredMachine, type: string, actor: Actor): void {
    if (!entry.eventRoles[type]?.includes(actor.role)) throw new ForbiddenError(`the role ${actor.role} may not send ${type}`);
  }

  /** The event types the stream's state has a transition for, whoever sends them and whatever their rules say. */
  eventsInState(stream: StreamRow): string[] {
    const entry = this.registry.get(stream.machineId, stream.machineVersion);
    if (!entry) return [];
    try {
      const current = currentMachine(this.registry, entry, stream.snapshot);
      const declared = declaredEvents(current.snapshot);
      return Object.keys(current.entry.eventSchemas).filter((type) => declared.has(type));
    } catch {
      return [];
    }
  }

  /**
   * The events the stream's state takes and the actor's role may send, each with what the
   * machine's rules say of it now (without a payload): what the pages offer and the API's
   * `allowedEvents` lists. The same `whyNot` decides the event when it is sent.
   */
  eventOptions(stream: StreamRow, actor: Actor): EventOption[] {
    const recorded = this.registry.get(stream.machineId, stream.machineVersion);
    if (!recorded) return [];
    const kind = this.kinds.get(recorded.id);
    if (kind?.maySee && !kind.maySee(stream, actor)) return [];
    let entry: RegisteredMachine;
    let current: AnyMachineSnapshot;
    try {
      ({ entry, snapshot: current } = currentMachine(this.registry, recorded, stream.snapshot));
    } catch {
      return [];
    }
    const declared = declaredEvents(current);
    const at = this.now().toISOString();
    return Object.keys(entry.eventSchemas)
      .filter((type) => declared.has(type) && entry.eventRoles[type]?.includes(actor.role))
      .map((type) => {
        const facts = kind?.facts?.(stream, type) ?? {};
        const problems = entry.whyNot?.(current.context, { type, payload: undefined, facts, actor, at }) ?? [];
        return { type, problems, open: !problems.some(isBlocking) };
      });
  }

  /**
   * Refuses, before any payload exists, what `apply` would refuse whatever the payload: an
   * unseen stream, a stale version, a role, a state or a rule that blocks. Uploads ask it before
   * they read a byte of the file.
   */
  check(streamId: string, type: string, actor: Actor, expectedVersion?: number): StreamRow {
    const { stream, entry } = this.open(streamId, actor);
    this.assertRole(entry, type, actor);
    const option = this.eventOptions(stream, actor).find((o) => o.type === type);
    if (!option) throw new NotAllowedError(`the state “${stream.state}” does not take “${type}”`, { state: stream.state, type });
    if (!option.open) throw refusal(type, option.problems);
    if (expectedVersion !== undefined && expectedVersion !== stream.version) {
      throw new ConflictError(`the ${stream.kind} changed: version ${stream.version}, not ${expectedVersion}`, { state: stream.state, version: stream.version });
    }
    return stream;
  }
}
