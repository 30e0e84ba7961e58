import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  recommendationsStage,
  stageEventRoles,
  stageEventSchemas,
  stageEventTypes,
  stageMachine,
  stageStates,
  whyNotStage,
  type StageEvent,
  type StageEventFacts,
  type StageEventType,
  type StageInput,
} from '../../machines/stage.ts';
import { stageDefinitions, stageKeys, type StageDefinition, type StageFacts } from '../../machines/stages.ts';
import { roles, type Actor, type Role } from '../../src/domain/roles.ts';

type Snapshot = ReturnType<typeof stageMachine.transition>;
type AnyNode = (typeof stageMachine)['root'];
type PayloadOf<K extends StageEventType> = Extract<StageEvent, { type: K }>['payload'];

const AT = '2027-02-01T06:00:00.000Z';
const LATER = '2027-03-15T09:30:00.000Z';

const actors: Record<Role, Actor> = {
  applicant: { id: 1, login: 'applicant1', name: 'Анна Петрова', role: 'applicant', municipalityId: 7 },
  reviewer: { id: 2, login: 'reviewer1', name: 'Ольга Смирнова', role: 'reviewer', municipalityId: null },
  coordinator: { id: 3, login: 'coordinator1', name: 'Сергей Иванов', role: 'coordinator', municipalityId: null },
  commission: { id: 4, login: 'commission1', name: 'Елена Кузнецова', role: 'commission', municipalityId: null },
  auditor: { id: 5, login: 'auditor1', name: 'Марина Лекомцева', role: 'auditor', municipalityId: null },
  admin: { id: 6, login: 'admin1', name: 'Администратор', role: 'admin', municipalityId: null },
};

/** Facts under which every stage's exit condition holds: everything before done, no application waiting. */
const exitHolds: StageFacts = {
  stageStates: Object.fromEntries(stageKeys.map((key) => [key, 'completed'])),
  applicationCounts: { rejected: 2, 'not-awarded': 1, closed: 3 },
  programme: { fundKopecks: 6_000_000_000, capKopecks: 150_000_000 },
  unscheduledStages: [],
  journal: { byKind: { announcement: 1, training: 1 }, byMunicipality: {} },
  appliedMunicipalities: [],
};

/** What the engine carries: the stage before has started, and the exit condition holds. */
const permissive: StageEventFacts = { previousState: 'active', exit: exitHolds };

const reopenReason = 'Протокол заседания оформлен с ошибкой.';

/** One valid payload per event type (tasks are filled in per stage); a new event type does not compile without one. */
const samplePayloads: { [K in StageEventType]: PayloadOf<K> } = {
  schedule: { plannedStart: '2027-02-01', plannedEnd: '2027-03-31' },
  start: {},
  'complete-task': { task: 'consulting' },
  'reopen-task': { task: 'consulting' },
  complete: {},
  reopen: { reason: reopenReason },
  'record-recommendations': { text: 'Расширить обучение инициативных групп в малых поселениях.' },
};

function eventFor(
  type: StageEventType,
  options: { actor?: Actor; facts?: StageEventFacts; payload?: unknown; at?: string } = {},
): StageEvent {
  return {
    type,
    payload: options.payload ?? samplePayloads[type],
    facts: options.facts ?? permissive,
    actor: options.actor ?? actors.coordinator,
    at: options.at ?? AT,
  } as StageEvent;
}

const inputFor = (definition: StageDefinition): StageInput => ({
  programmeId: 1,
  no: definition.no,
  key: definition.key,
  tasks: [...definition.tasks],
  actor: actors.admin,
  at: AT,
});

const stateOf = (snapshot: Snapshot) => snapshot.value as string;
const doneTasks = (snapshot: Snapshot) => snapshot.context.tasks.filter((t) => t.done).map((t) => t.key);

/**
 * The events offered in a snapshot, as the stage page offers them: every event type, ticking each
 * open task and reopening each ticked one. The guards decide which of them the state takes; the
 * refusals of the other task events have their own tests below.
 */
function eventsOf(snapshot: Snapshot): StageEvent[] {
  return stageEventTypes.flatMap((type) =>
    type === 'complete-task' || type === 'reopen-task'
      ? snapshot.context.tasks.filter((t) => t.done === (type === 'reopen-task')).map((t) => eventFor(type, { payload: { task: t.key } }))
      : [eventFor(type)],
  );
}

/**
 * The same, with the checklist worked as a stack (tick the first open task, reopen the last ticked
 * one) and at most two reopenings: a finite graph whose simple paths can all be walked.
 */
function eventsInOrder(snapshot: Snapshot): StageEvent[] {
  const open = snapshot.context.tasks.find((t) => !t.done);
  const done = [...snapshot.context.tasks].reverse().find((t) => t.done);
  return eventsOf(snapshot).filter((event) =>
    event.type === 'complete-task'
      ? event.payload.task === open?.key
      : event.type === 'reopen-task'
        ? event.payload.task === done?.key
        : event.type !== 'reopen' || snapshot.context.reopenings.length < 2,
  );
}

interface DeclaredTransition {
  key: string;
  from: string;
  type: StageEventType;
  target: AnyNode | undefined;
}

/** Every transition the machine declares, read from its definition, so that a new one enters this list by itself. */
const stateNodes = Object.values(stageMachine.root.states) as AnyNode[];
const declared: DeclaredTransition[] = stateNodes.flatMap((node) =>
  [...node.transitions.entries()].flatMap(([type, definitions]) =>
    definitions.map((definition) => {
      const target = definition.target?.[0] as AnyNode | undefined;
      return { key: transitionKey(node.path.join('.'), type, target), from: node.path.join('.'), type: type as StageEventType, target };
    }),
  ),
);

function transitionKey(from: string, type: string, target: AnyNode | undefined): string {
  return `${from} --${type}--> ${target ? target.path.join('.') : '(stays)'}`;
}

function takenKey(before: Snapshot, event: StageEvent, after: Snapshot): string | undefined {
  if (after === before) return undefined;
  const from = stateOf(before);
  const match = declared.find((d) => d.from === from && d.type === event.type && (d.target ? after._nodes.includes(d.target as never) : stateOf(after) === from));
  return match?.key;
}

/**
 * A vertex is the state, the set of ticked tasks, and the edge that led into it (the state before
 * and the event): finite, and every declared edge ends some path. It reads nothing else of the
 * snapshot, because the graph keeps one snapshot per vertex and serializes edges from it.
 */
const serialize = (snapshot: Snapshot, event: StageEvent | undefined, before: Snapshot | undefined) =>
  JSON.stringify({ state: stateOf(snapshot), done: doneTasks(snapshot), via: event?.type ?? null, from: before ? stateOf(before) : null });

function walk(definition: StageDefinition) {
  const input = inputFor(definition);
  const [initial] = initialTransition(stageMachine, input);
  const paths = getShortestPaths(stageMachine, { fromState: initial, input, events: eventsOf, serializeState: serialize });
  return { input, initial, paths };
}
const walks = new Map(stageDefinitions.map((definition) => [definition.key, walk(definition)]));
const walkOf = (definition: StageDefinition) => walks.get(definition.key)!;

/**
 * The steps of a path, folded again from the initial snapshot: what each event really made of the
 * snapshot before it (the graph's own snapshots are one per vertex), beside the vertex it led to.
 */
function stepsOf(input: StageInput, path: { steps: { state: Snapshot; event: StageEvent }[] }) {
  // The first step is the start itself (xstate.init); each later one carries its event and the vertex it reached.
  let [before] = initialTransition(stageMachine, input);
  return path.steps.slice(1).map((step) => {
    const [after] = transition(stageMachine, before, step.event);
    const folded = { before, event: step.event, after, vertex: step.state };
    before = after;
    return folded;
  });
}

/** A snapshot of the stage in the state, with the given tasks ticked (all of them by default), reached by the machine's own transitions. */
function reach(definition: StageDefinition, state: string, done: string[] = [...definition.tasks]): Snapshot {
  const wanted = [...done].sort().join();
  const path = walkOf(definition).paths.find((p) => stateOf(p.state) === state && [...doneTasks(p.state)].sort().join() === wanted);
  if (!path) throw new Error(`no path reaches ${definition.key} ${state} with [${wanted}] done`);
  return path.state;
}

/** The snapshot after the events, from the stage's initial one. */
function fold(definition: StageDefinition, events: StageEvent[]): Snapshot {
  let [snapshot] = initialTransition(stageMachine, inputFor(definition));
  for (const event of events) [snapshot] = transition(stageMachine, snapshot, event);
  return snapshot;
}

const stage = (key: string) => stageDefinitions.find((d) => d.key === key)!;

/** The declared transitions a stage can take: the recommendations belong to the closing stage's report only (issue 13). */
const declaredFor = (definition: StageDefinition) => declared.filter((d) => d.type !== 'record-recommendations' || definition.key === recommendationsStage);
const manyTasks = stageDefinitions.filter((d) => d.tasks.length > 1);

describe('the stage machine, walked from its graph', () => {
  it('declares exactly the states planned, active and completed', () => {
    expect(stateNodes.map((node) => node.key).sort()).toEqual([...stageStates].sort());
    expect(stateNodes.every((node) => node.type === 'atomic')).toBe(true);
  });

  it('declares each event type in some state, and every declared event has a schema and only the coordinator sends it', () => {
    expect([...new Set(declared.map((d) => d.type))].sort()).toEqual([...stageEventTypes].sort());
    for (const type of stageEventTypes) {
      expect(stageEventSchemas[type], type).toBeDefined();
      expect(stageEventRoles[type], type).toEqual(['coordinator']);
    }
    expect(declared.map((d) => d.key).sort()).toEqual(
      [
        'planned --schedule--> (stays)',
        'planned --start--> active',
        'active --schedule--> (stays)',
        'active --complete-task--> (stays)',
        'active --reopen-task--> (stays)',
        'active --complete--> completed',
        'completed --reopen--> active',
        'active --record-recommendations--> (stays)',
        'completed --record-recommendations--> (stays)',
      ].sort(),
    );
  });

  it('uses sample payloads that the engine’s schemas accept unchanged', () => {
    for (const type of stageEventTypes) expect(stageEventSchemas[type].parse(samplePayloads[type]), type).toEqual(samplePayloads[type]);
    for (const definition of stageDefinitions) {
      for (const task of definition.tasks) expect(stageEventSchemas['complete-task'].parse({ task })).toEqual({ task });
    }
  });

  for (const definition of stageDefinitions) {
    describe(`stage ${definition.no}, ${definition.key}`, () => {
      it('starts planned, with its checklist open and no dates', () => {
        const { initial } = walkOf(definition);
        expect(stateOf(initial)).toBe('planned');
        expect(initial.context).toMatchObject({ no: definition.no, key: definition.key, startedAt: null, completedAt: null, reopenings: [] });
        expect(initial.context.tasks.map((t) => t.key)).toEqual([...definition.tasks]);
        expect(initial.context.tasks.every((t) => !t.done && t.doneAt === null && t.doneBy === null)).toBe(true);
      });

      it('reaches every state, and every set of ticked tasks while active', () => {
        const { paths } = walkOf(definition);
        expect(new Set(paths.map((p) => stateOf(p.state)))).toEqual(new Set(stageStates));
        const sets = new Set(paths.filter((p) => stateOf(p.state) === 'active').map((p) => doneTasks(p.state).join()));
        expect(sets.size).toBe(2 ** definition.tasks.length);
      });

      it('takes every declared transition on some path, into its declared target', () => {
        const { input, paths } = walkOf(definition);
        const taken = new Set<string>();
        for (const path of paths) {
          for (const { before, event, after, vertex } of stepsOf(input, path)) {
            expect([stateOf(after), doneTasks(after)]).toEqual([stateOf(vertex), doneTasks(vertex)]);
            const key = takenKey(before, event, after);
            if (key) taken.add(key);
          }
        }
        expect(declaredFor(definition).map((d) => d.key).filter((key) => !taken.has(key))).toEqual([]);
      });
    });
  }

  it('never refuses the coordinator’s valid event in a state that declares it, once its guards can hold', () => {
    for (const definition of stageDefinitions) {
      for (const d of declaredFor(definition)) {
        // The task events need a task in the right condition: one open for ticking, one done for reopening.
        const [first] = definition.tasks;
        const done = d.type === 'reopen-task' || d.type === 'complete' || d.from === 'completed' ? [...definition.tasks] : [];
        const before = reach(definition, d.from, done);
        const event = eventFor(d.type, { payload: d.type.endsWith('-task') ? { task: first! } : undefined });
        const [after] = transition(stageMachine, before, event);
        expect(takenKey(before, event, after), `${definition.key}: ${d.key}`).toBe(d.key);
      }
    }
  });

  it('is pure: every simple path replays to the same snapshots, and keeps its bookkeeping right', () => {
    let paths = 0;
    for (const definition of stageDefinitions) {
      const { input, initial } = walkOf(definition);
      const simple = getSimplePaths(stageMachine, {
        fromState: initial,
        input,
        events: eventsInOrder,
        // State, the number of ticked tasks (always the first ones) and of reopenings: few enough vertices for every simple path.
        serializeState: (snapshot) => `${stateOf(snapshot)} ${doneTasks(snapshot).length} ${snapshot.context.reopenings.length}`,
      });
      expect(new Set(simple.map((p) => stateOf(p.state)))).toEqual(new Set(stageStates));
      expect(Math.max(...simple.map((p) => p.state.context.reopenings.length))).toBe(2);
      paths += simple.length;
      for (const path of simple) {
        let [first] = initialTransition(stageMachine, input);
        let [second] = initialTransition(stageMachine, input);
        let reopenings = 0;
        for (const { event, vertex } of stepsOf(input, path)) {
          const before = first;
          [first] = transition(stageMachine, first, event);
          [second] = transition(stageMachine, second, event);
          expect(stateOf(first)).toBe(stateOf(vertex));
          expect(stageMachine.getPersistedSnapshot(first)).toEqual(stageMachine.getPersistedSnapshot(second));
          if (first === before) continue;
          if (event.type === 'reopen') reopenings += 1;
          expect(first.context.reopenings).toEqual(Array.from({ length: reopenings }, () => ({ at: AT, reason: reopenReason })));
          expect(first.context.startedAt).toBe(stateOf(first) === 'planned' ? null : AT);
          expect(first.context.completedAt).toBe(stateOf(first) === 'completed' ? AT : null);
          if (stateOf(first) === 'completed') expect(first.context.tasks.every((t) => t.done)).toBe(true);
          for (const task of first.context.tasks) {
            expect(task.doneAt, task.key).toBe(task.done ? AT : null);
            expect(task.doneBy, task.key).toBe(task.done ? actors.coordinator.name : null);
          }
        }
      }
    }
    expect(paths).toBeGreaterThan(stageDefinitions.length * stageStates.length);
  });
});

describe('the recommendations of the analytical report (version 3)', () => {
  it('are kept by the closing stage, active or completed, each version with its time and author, the last one current', () => {
    const closing = stage(recommendationsStage);
    for (const state of ['active', 'completed']) {
      const before = reach(closing, state, state === 'completed' ? [...closing.tasks] : []);
      const [first] = transition(stageMachine, before, eventFor('record-recommendations', { payload: { text: 'Первая редакция.' } }));
      const [second] = transition(stageMachine, first, eventFor('record-recommendations', { payload: { text: 'Вторая редакция.' }, at: '2027-12-20T09:00:00.000Z' }));
      expect(stateOf(second)).toBe(state);
      expect(second.context.recommendations).toEqual([
        { text: 'Первая редакция.', at: AT, by: actors.coordinator.name },
        { text: 'Вторая редакция.', at: '2027-12-20T09:00:00.000Z', by: actors.coordinator.name },
      ]);
    }
  });

  it('are refused by every other stage, with the reason', () => {
    for (const definition of stageDefinitions.filter((d) => d.key !== recommendationsStage)) {
      const before = reach(definition, 'active', []);
      const event = eventFor('record-recommendations');
      expect(transition(stageMachine, before, event)[0], definition.key).toBe(before);
      expect(whyNotStage(before.context, event)).toEqual([{ code: 'stage.refused.recommendations-closing-only' }]);
    }
  });
});

describe('the guards refuse', () => {
  it('every role but the coordinator, for every declared transition of every stage', () => {
    let checked = 0;
    for (const definition of stageDefinitions) {
      for (const d of declaredFor(definition)) {
        const done = d.type === 'reopen-task' || d.type === 'complete' || d.from === 'completed' ? [...definition.tasks] : [];
        const before = reach(definition, d.from, done);
        const payload = d.type.endsWith('-task') ? { task: definition.tasks[0]! } : undefined;
        for (const role of roles.filter((r) => r !== 'coordinator')) {
          const [after] = transition(stageMachine, before, eventFor(d.type, { actor: actors[role], payload }));
          expect(after, `${role}: ${definition.key} ${d.key}`).toBe(before);
          checked += 1;
        }
        const [taken] = transition(stageMachine, before, eventFor(d.type, { payload }));
        expect(taken, `coordinator: ${definition.key} ${d.key}`).not.toBe(before);
      }
    }
    expect(checked).toBe(stageDefinitions.reduce((sum, definition) => sum + declaredFor(definition).length, 0) * (roles.length - 1));
  });

  it('start while the stage before is planned, or while the engine did not say', () => {
    for (const definition of stageDefinitions.filter((d) => d.no > 1)) {
      const planned = reach(definition, 'planned', []);
      for (const previousState of ['planned', null, undefined]) {
        const facts: StageEventFacts = previousState === undefined ? {} : { previousState };
        const [after] = transition(stageMachine, planned, eventFor('start', { facts }));
        expect(after, `${definition.key} after a ${String(previousState)} stage`).toBe(planned);
      }
      for (const previousState of ['active', 'completed']) {
        const [after] = transition(stageMachine, planned, eventFor('start', { facts: { previousState } }));
        expect(stateOf(after), `${definition.key} after an ${previousState} stage`).toBe('active');
      }
    }
  });

  it('nothing of the kind for stage 1: it starts whatever the facts say', () => {
    const first = stageDefinitions[0]!;
    expect(first.no).toBe(1);
    const planned = reach(first, 'planned', []);
    for (const facts of [{ previousState: 'planned' }, { previousState: null }, {}]) {
      const [after] = transition(stageMachine, planned, eventFor('start', { facts, at: LATER }));
      expect(stateOf(after), JSON.stringify(facts)).toBe('active');
      expect(after.context.startedAt).toBe(LATER);
    }
  });

  it('complete while any task is open, then takes it once the last one is ticked', () => {
    for (const definition of stageDefinitions) {
      for (const open of definition.tasks) {
        const done = definition.tasks.filter((t) => t !== open);
        const before = reach(definition, 'active', done);
        const [refused] = transition(stageMachine, before, eventFor('complete'));
        expect(refused, `${definition.key} with ${open} open`).toBe(before);
        const [ticked] = transition(stageMachine, before, eventFor('complete-task', { payload: { task: open } }));
        const [completed] = transition(stageMachine, ticked, eventFor('complete', { at: LATER }));
        expect(stateOf(completed)).toBe('completed');
        expect(completed.context.completedAt).toBe(LATER);
      }
    }
  });

  it('complete while the exit condition fails, or without the facts it looks at', () => {
    const held: Record<string, StageFacts> = {
      intake: { ...exitHolds, applicationCounts: { submitted: 1 } },
      commission: { ...exitHolds, applicationCounts: { accepted: 2 } },
      training: { ...exitHolds, stageStates: { ...exitHolds.stageStates, preparation: 'active' } },
      preparation: { ...exitHolds, unscheduledStages: ['closing'] },
    };
    for (const [key, facts] of Object.entries(held)) {
      const definition = stage(key);
      expect(definition.exit(facts).holds).toBe(false);
      const before = reach(definition, 'active');
      for (const refusedFacts of [{ previousState: 'active', exit: facts }, { previousState: 'active' }, {}]) {
        const [after] = transition(stageMachine, before, eventFor('complete', { facts: refusedFacts }));
        expect(after, `${key} with ${JSON.stringify(refusedFacts)}`).toBe(before);
      }
      const [completed] = transition(stageMachine, before, eventFor('complete', { facts: { exit: exitHolds } }));
      expect(stateOf(completed)).toBe('completed');
    }
  });

  it('ticking a task the stage does not have, or one already ticked; reopening one that is open or unknown', () => {
    for (const definition of manyTasks) {
      const [first, second] = definition.tasks as [StageDefinition['tasks'][number], StageDefinition['tasks'][number]];
      const before = reach(definition, 'active', [first]);
      for (const [type, task] of [
        ['complete-task', 'no-such-task'],
        ['complete-task', first],
        ['reopen-task', 'no-such-task'],
        ['reopen-task', second],
      ] as const) {
        const [after] = transition(stageMachine, before, eventFor(type, { payload: { task } }));
        expect(after, `${definition.key}: ${type} ${task}`).toBe(before);
      }
      const [reopened] = transition(stageMachine, before, eventFor('reopen-task', { payload: { task: first } }));
      expect(doneTasks(reopened)).toEqual([]);
      expect(reopened.context.tasks.find((t) => t.key === first)).toEqual({ key: first, done: false, doneAt: null, doneBy: null });
    }
  });

  it('task events, complete and reopen outside the states that declare them', () => {
    for (const definition of stageDefinitions) {
      const task = definition.tasks[0]!;
      const planned = reach(definition, 'planned', []);
      const active = reach(definition, 'active', []);
      const completed = reach(definition, 'completed');
      const cases: [Snapshot, StageEventType][] = [
        [planned, 'complete-task'],
        [planned, 'reopen-task'],
        [planned, 'complete'],
        [planned, 'reopen'],
        [active, 'start'],
        [active, 'reopen'],
        [completed, 'start'],
        [completed, 'schedule'],
        [completed, 'complete-task'],
        [completed, 'reopen-task'],
        [completed, 'complete'],
      ];
      for (const [before, type] of cases) {
        const [after] = transition(stageMachine, before, eventFor(type, { payload: type.endsWith('-task') ? { task } : undefined }));
        expect(after, `${definition.key} ${stateOf(before)}: ${type}`).toBe(before);
      }
    }
  });
});

describe('the stage keeps its record', () => {
  it('reopen records the reason and the moment, clears completedAt, keeps startedAt and the ticked tasks', () => {
    const definition = stage('intake');
    const completed = fold(definition, [
      eventFor('start'),
      ...definition.tasks.map((task) => eventFor('complete-task', { payload: { task } })),
      eventFor('complete'),
    ]);
    expect(completed.context.reopenings).toEqual([]);
    expect(completed.context.completedAt).toBe(AT);
    const [reopened] = transition(stageMachine, completed, eventFor('reopen', { at: LATER }));
    expect(stateOf(reopened)).toBe('active');
    expect(reopened.context.reopenings).toEqual([{ at: LATER, reason: reopenReason }]);
    expect(reopened.context.completedAt).toBeNull();
    expect(reopened.context.startedAt).toBe(AT);
    expect(reopened.context.tasks).toEqual(completed.context.tasks);

    const [again] = transition(stageMachine, reopened, eventFor('complete', { at: '2027-04-01T10:00:00.000Z' }));
    expect(again.context.completedAt).toBe('2027-04-01T10:00:00.000Z');
    const [twice] = transition(stageMachine, again, eventFor('reopen', { at: '2027-04-02T10:00:00.000Z', payload: { reason: 'Ещё одна заявка' } }));
    expect(twice.context.reopenings).toEqual([
      { at: LATER, reason: reopenReason },
      { at: '2027-04-02T10:00:00.000Z', reason: 'Ещё одна заявка' },
    ]);
  });

  it('schedule sets the planned dates while planned and while active', () => {
    const definition = stage('documentation');
    for (const state of ['planned', 'active']) {
      const before = reach(definition, state, []);
      const [after] = transition(stageMachine, before, eventFor('schedule', { payload: { plannedStart: '2027-05-01', plannedEnd: '2027-06-30' } }));
      expect(stateOf(after)).toBe(state);
      expect(after.context).toMatchObject({ plannedStart: '2027-05-01', plannedEnd: '2027-06-30' });
    }
  });

  it('a ticked task records who ticked it and when', () => {
    const definition = stage('commission');
    const active = reach(definition, 'active', []);
    const [after] = transition(stageMachine, active, eventFor('complete-task', { payload: { task: 'protocol' }, at: LATER }));
    expect(after.context.tasks.find((t) => t.key === 'protocol')).toEqual({ key: 'protocol', done: true, doneAt: LATER, doneBy: actors.coordinator.name });
  });

  it('the schedule payload refuses an end before its start and a date that is not one', () => {
    expect(stageEventSchemas.schedule.safeParse({ plannedStart: '2027-05-02', plannedEnd: '2027-05-01' }).success).toBe(false);
    expect(stageEventSchemas.schedule.safeParse({ plannedStart: '2027-13-01', plannedEnd: '2027-05-01' }).success).toBe(false);
    expect(stageEventSchemas.schedule.safeParse({ plannedStart: '2027-05-01', plannedEnd: '2027-05-01' }).success).toBe(true);
    expect(stageEventSchemas.reopen.safeParse({ reason: '   ' }).success).toBe(false);
    expect(stageEventSchemas.reopen.safeParse({}).success).toBe(false);
  });
});
