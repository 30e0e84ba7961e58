import { assign, setup } from 'xstate';
import { z } from 'zod';
import type { Actor, Role } from '../src/domain/roles.ts';
import type { Problem } from '../src/domain/problems.ts';

/**
 * A programme stage, version 1, FROZEN: it replays the stage streams written with it (DESIGN §4.5)
 * and is never edited. Its exit conditions are copied here as they were, so that a later change
 * of machines/stages.ts cannot change how a version-1 history replays. Version 2
 * (machines/stage.ts) takes a stream over at its next event.
 */
export const stageMachineId = 'stage';
export const stageMachineV1Version = 1;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'not a date');

export const stageEventSchemasV1 = {
  schedule: z
    .strictObject({ plannedStart: isoDate, plannedEnd: isoDate })
    .refine((value) => value.plannedStart <= value.plannedEnd, { message: 'the end comes before the start', path: ['plannedEnd'] }),
  start: z.strictObject({}),
  'complete-task': z.strictObject({ task: z.string().min(1).max(64) }),
  'reopen-task': z.strictObject({ task: z.string().min(1).max(64) }),
  complete: z.strictObject({}),
  reopen: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
} as const;

export type StageEventTypeV1 = keyof typeof stageEventSchemasV1;
export const stageEventTypesV1 = Object.keys(stageEventSchemasV1) as StageEventTypeV1[];

export const stageEventRolesV1: Record<StageEventTypeV1, readonly Role[]> = {
  schedule: ['coordinator'],
  start: ['coordinator'],
  'complete-task': ['coordinator'],
  'reopen-task': ['coordinator'],
  complete: ['coordinator'],
  reopen: ['coordinator'],
};

/** Stages are created with their programme, by the admin who creates it. */
export const stageCreateRolesV1: readonly Role[] = ['admin'];

export interface StageEventFactsV1 {
  /** The state of the stage before this one; null for the first stage. */
  previousState?: string | null;
  exit?: StageFactsV1;
}

type Payloads = { [K in StageEventTypeV1]: z.output<(typeof stageEventSchemasV1)[K]> };
export type StageEventV1 = {
  [K in StageEventTypeV1]: { type: K; payload: Payloads[K]; facts: StageEventFactsV1; actor: Actor; at: string };
}[StageEventTypeV1];

export interface StageInputV1 {
  programmeId: number;
  no: number;
  key: string;
  tasks: string[];
  plannedStart?: string | null;
  plannedEnd?: string | null;
  actor: Actor;
  at: string;
}

export interface StageTaskV1 {
  key: string;
  done: boolean;
  doneAt: string | null;
  doneBy: string | null;
}

export interface StageContextV1 {
  programmeId: number;
  no: number;
  key: string;
  tasks: StageTaskV1[];
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  reopenings: { at: string; reason: string }[];
}


type StageStateName = 'planned' | 'active' | 'completed';
/** What the engine read for a stage's exit condition when version 1 was written. */
interface StageFactsV1 {
  stageStates: Record<string, StageStateName>;
  applicationCounts: Record<string, number>;
  programme: { fundKopecks: number; capKopecks: number };
  unscheduledStages: string[];
}
interface ExitVerdict {
  holds: boolean;
  code: string;
  params?: Record<string, string | number>;
}
type StageKey = string;
type StageFacts = StageFactsV1;
const count = (facts: StageFacts, ...states: string[]) => states.reduce((sum, s) => sum + (facts.applicationCounts[s] ?? 0), 0);
const ok: ExitVerdict = { holds: true, code: 'ok' };
const whenNone = (n: number, code: string): ExitVerdict => (n === 0 ? ok : { holds: false, code, params: { count: n } });
const afterStage = (facts: StageFacts, key: StageKey): ExitVerdict =>
  facts.stageStates[key] === 'completed' ? ok : { holds: false, code: 'stage-not-completed', params: { stage: key } };


/** The twelve stages' keys by number, and their exit conditions, as version 1 had them. */
const stageKeysV1 = ['preparation', 'training', 'preliminary-meetings', 'final-meetings', 'documentation', 'intake', 'commission', 'legal', 'procurement', 'works', 'monitoring', 'closing'];
const exitsV1: Record<string, (facts: StageFactsV1) => ExitVerdict> = {
  'preparation': (facts) => {
      if (facts.programme.fundKopecks <= 0 || facts.programme.capKopecks <= 0) return { holds: false, code: 'programme-parameters' };
      const unscheduled = facts.unscheduledStages.filter((key) => key !== 'preparation');
      return unscheduled.length === 0 ? ok : { holds: false, code: 'stages-unscheduled', params: { count: unscheduled.length } };
    },
  'training': (facts) => afterStage(facts, 'preparation'),
  'preliminary-meetings': (facts) => afterStage(facts, 'training'),
  'final-meetings': (facts) => afterStage(facts, 'preliminary-meetings'),
  'documentation': (facts) => whenNone(count(facts, 'under-review'), 'applications-under-review'),
  'intake': (facts) => whenNone(count(facts, 'submitted', 'under-review', 'returned'), 'applications-waiting-decision'),
  'commission': (facts) => whenNone(count(facts, 'accepted'), 'applications-undecided'),
  'legal': (facts) => whenNone(count(facts, 'awarded', 'implementation.agreement', 'implementation.co-financing'), 'applications-without-agreement'),
  'procurement': (facts) => whenNone(count(facts, 'implementation.procurement'), 'applications-without-contract'),
  'works': (facts) => whenNone(count(facts, 'implementation.works'), 'works-unfinished'),
  'monitoring': (facts) => afterStage(facts, 'works'),
  'closing': (facts) =>
      whenNone(
        count(facts, 'awarded', 'implementation.agreement', 'implementation.co-financing', 'implementation.procurement', 'implementation.works', 'implementation.completed'),
        'projects-open',
      ),
};

const hasTask = (context: StageContextV1, key: string, done: boolean) => context.tasks.some((t) => t.key === key && t.done === done);

type StageRuleEvent = { [K in StageEventTypeV1]: Omit<Extract<StageEventV1, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[StageEventTypeV1];

/** What each event asks of the stage: the stage before started, the task open or done, the checklist and the exit condition. */
const stageRules: { [K in StageEventTypeV1]?: (context: StageContextV1, event: Extract<StageRuleEvent, { type: K }>) => Problem[] } = {
  start: (context, event) => {
    if (context.no === 1) return [];
    const previous = event.facts.previousState;
    if (previous !== undefined && previous !== null && previous !== 'planned') return [];
    return [{ code: 'stage.refused.previous-planned', params: { stage: stageKeysV1[context.no - 2] ?? '' } }];
  },
  'complete-task': (context, event) => (event.payload === undefined || hasTask(context, event.payload.task, false) ? [] : [{ code: 'stage.refused.task-not-open', params: { task: event.payload.task } }]),
  'reopen-task': (context, event) => (event.payload === undefined || hasTask(context, event.payload.task, true) ? [] : [{ code: 'stage.refused.task-not-done', params: { task: event.payload.task } }]),
  complete: (context, event) => {
    const problems: Problem[] = [];
    const open = context.tasks.filter((t) => !t.done).length;
    if (open > 0) problems.push({ code: 'stage.refused.tasks-open', params: { count: open } });
    const exit = exitsV1[context.key];
    const verdict = exit && event.facts.exit ? exit(event.facts.exit) : { holds: false, code: 'unknown' };
    if (!verdict.holds) problems.push({ code: `stage.exit.${verdict.code}`, params: verdict.params ?? {} });
    return problems;
  },
};

/**
 * Why the stage refuses an event now: the role, then the event's own rule. The statechart's one
 * guard is this list being empty; the engine throws it, the stage page shows it as the blockers.
 */
export function whyNotStageV1(context: StageContextV1, event: StageRuleEvent): Problem[] {
  const problems: Problem[] = stageEventRolesV1[event.type].includes(event.actor.role) ? [] : [{ code: 'role', params: { role: event.actor.role } }];
  const rule = stageRules[event.type] as ((context: StageContextV1, event: StageRuleEvent) => Problem[]) | undefined;
  return [...problems, ...(rule ? rule(context, event) : [])];
}

export const stageMachineV1 = setup({
  types: { context: {} as StageContextV1, events: {} as StageEventV1, input: {} as StageInputV1 },
  guards: {
    /** The one guard: no rule of `whyNotStageV1` refuses the event. */
    allowed: ({ context, event }) => whyNotStageV1(context, event).length === 0,
  },
  actions: {
    schedule: assign(({ context, event }) =>
      event.type === 'schedule' ? { plannedStart: event.payload.plannedStart, plannedEnd: event.payload.plannedEnd } : context,
    ),
    markStarted: assign({ startedAt: ({ context, event }) => context.startedAt ?? event.at }),
    completeTask: assign({
      tasks: ({ context, event }) =>
        event.type === 'complete-task'
          ? context.tasks.map((t) => (t.key === event.payload.task ? { ...t, done: true, doneAt: event.at, doneBy: event.actor.name } : t))
          : context.tasks,
    }),
    reopenTask: assign({
      tasks: ({ context, event }) =>
        event.type === 'reopen-task' ? context.tasks.map((t) => (t.key === event.payload.task ? { ...t, done: false, doneAt: null, doneBy: null } : t)) : context.tasks,
    }),
    markCompleted: assign({ completedAt: ({ event }) => event.at }),
    recordReopening: assign({
      completedAt: () => null,
      reopenings: ({ context, event }) => (event.type === 'reopen' ? [...context.reopenings, { at: event.at, reason: event.payload.reason }] : context.reopenings),
    }),
  },
}).createMachine({
  id: stageMachineId,
  initial: 'planned',
  context: ({ input }) => ({
    programmeId: input.programmeId,
    no: input.no,
    key: input.key,
    tasks: input.tasks.map((key) => ({ key, done: false, doneAt: null, doneBy: null })),
    plannedStart: input.plannedStart ?? null,
    plannedEnd: input.plannedEnd ?? null,
    startedAt: null,
    completedAt: null,
    reopenings: [],
  }),
  states: {
    planned: {
      on: {
        schedule: { guard: 'allowed', actions: 'schedule' },
        start: { guard: 'allowed', target: 'active', actions: 'markStarted' },
      },
    },
    active: {
      on: {
        schedule: { guard: 'allowed', actions: 'schedule' },
        'complete-task': { guard: 'allowed', actions: 'completeTask' },
        'reopen-task': { guard: 'allowed', actions: 'reopenTask' },
        complete: { guard: 'allowed', target: 'completed', actions: 'markCompleted' },
      },
    },
    completed: {
      on: {
        reopen: { guard: 'allowed', target: 'active', actions: 'recordReopening' },
      },
    },
  },
});
