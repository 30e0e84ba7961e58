import { assign, setup } from 'xstate';
import { z } from 'zod';
import type { Actor, Role } from '../src/domain/roles.ts';
import type { Problem } from '../src/domain/problems.ts';
import { refineText, text } from '../src/domain/text.ts';
import { stageDefinition, stageDefinitions, type StageFacts } from './stages.ts';

/**
 * One programme stage (DESIGN §2): planned → active → completed, reopenable with a reason, with
 * its checklist and planned dates. Pure: the state of the stage before it and the facts its exit
 * condition looks at arrive in the event.
 */
export const stageMachineId = 'stage';
/**
 * Version 3: the current one — the closing stage takes the coordinator's recommendations of the
 * analytical report (issue 13) as an event. Versions 1 and 2 (machines/stage-v1.ts, stage-v2.ts)
 * stay registered for the streams written with them.
 */
export const stageMachineVersion = 3;

/** The stage whose report the recommendations belong to (stage 12). */
export const recommendationsStage = 'closing';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'not a date');

export const stageEventSchemas = {
  schedule: z
    .strictObject({ plannedStart: isoDate, plannedEnd: isoDate })
    .refine((value) => value.plannedStart <= value.plannedEnd, { message: 'the end comes before the start', path: ['plannedEnd'] }),
  start: z.strictObject({}),
  'complete-task': z.strictObject({ task: refineText(z.string().min(1).max(64)) }),
  'reopen-task': z.strictObject({ task: refineText(z.string().min(1).max(64)) }),
  complete: z.strictObject({}),
  reopen: z.strictObject({ reason: text({ max: 2000, multiline: true }) }),
  'record-recommendations': z.strictObject({ text: text({ max: 20_000, multiline: true }) }),
} as const;

export type StageEventType = keyof typeof stageEventSchemas;
export const stageEventTypes = Object.keys(stageEventSchemas) as StageEventType[];

export const stageEventRoles: Record<StageEventType, readonly Role[]> = {
  schedule: ['coordinator'],
  start: ['coordinator'],
  'complete-task': ['coordinator'],
  'reopen-task': ['coordinator'],
  complete: ['coordinator'],
  reopen: ['coordinator'],
  'record-recommendations': ['coordinator'],
};

/** Stages are created with their programme, by the admin who creates it. */
export const stageCreateRoles: readonly Role[] = ['admin'];

export interface StageEventFacts {
  /** The state of the stage before this one; null for the first stage. */
  previousState?: string | null;
  exit?: StageFacts;
  /**
   * `complete-task` in a stage that holds the informing task: what became of the results sent to
   * the participants (src/workflows/informing/). That task is ticked from this record only.
   */
  informing?: InformingFacts;
}

/** The delivery record of the results sent to the participants, counted when the task is ticked from it. */
export interface InformingFacts {
  /** Notifications of a result, one per applicant and application. */
  total: number;
  /** Of them, e-mails delivered, e-mails that failed for good, and e-mails still on their way. */
  emailed: number;
  failed: number;
  pending: number;
  /** The rest reached the inbox only (no address, e-mail off or not wanted). */
  inboxOnly: number;
  /** When the results were sent. */
  sentAt: string | null;
}

/** The task a delivery record ticks. */
export const informingTask = 'informing';

type Payloads = { [K in StageEventType]: z.output<(typeof stageEventSchemas)[K]> };
export type StageEvent = {
  [K in StageEventType]: { type: K; payload: Payloads[K]; facts: StageEventFacts; actor: Actor; at: string };
}[StageEventType];

export interface StageInput {
  programmeId: number;
  no: number;
  key: string;
  tasks: string[];
  plannedStart?: string | null;
  plannedEnd?: string | null;
  actor: Actor;
  at: string;
}

export interface StageTask {
  key: string;
  done: boolean;
  doneAt: string | null;
  doneBy: string | null;
}

export interface StageContext {
  programmeId: number;
  no: number;
  key: string;
  tasks: StageTask[];
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  reopenings: { at: string; reason: string }[];
  /** The delivery record that ticked the informing task; absent until then (older snapshots stay as they were). */
  informed?: InformingFacts & { at: string };
  /** The closing stage's recommendations, each version as it was recorded, the last one current (version 3; absent before). */
  recommendations?: Recommendations[];
}

export interface Recommendations {
  text: string;
  at: string;
  by: string;
}

const hasTask = (context: StageContext, key: string, done: boolean) => context.tasks.some((t) => t.key === key && t.done === done);

/**
 * The informing task is ticked from the delivery record the engine carries: refused while nobody
 * was sent a result, or while e-mails are still on their way. Without a record (a machine asked
 * directly) nothing is known against it.
 */
function informingProblems(record: InformingFacts | undefined): Problem[] {
  if (record === undefined) return [];
  if (record.total === 0) return [{ code: 'stage.refused.nobody-informed' }];
  if (record.pending > 0) return [{ code: 'stage.refused.informing-pending', params: { count: record.pending } }];
  return [];
}

type StageRuleEvent = { [K in StageEventType]: Omit<Extract<StageEvent, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[StageEventType];

/** What each event asks of the stage: the stage before started, the task open or done, the checklist and the exit condition. */
const stageRules: { [K in StageEventType]?: (context: StageContext, event: Extract<StageRuleEvent, { type: K }>) => Problem[] } = {
  start: (context, event) => {
    if (context.no === 1) return [];
    const previous = event.facts.previousState;
    if (previous !== undefined && previous !== null && previous !== 'planned') return [];
    return [{ code: 'stage.refused.previous-planned', params: { stage: stageDefinitions.find((d) => d.no === context.no - 1)?.key ?? '' } }];
  },
  'complete-task': (context, event) => {
    if (event.payload === undefined) return [];
    if (!hasTask(context, event.payload.task, false)) return [{ code: 'stage.refused.task-not-open', params: { task: event.payload.task } }];
    return event.payload.task === informingTask ? informingProblems(event.facts.informing) : [];
  },
  'reopen-task': (context, event) => (event.payload === undefined || hasTask(context, event.payload.task, true) ? [] : [{ code: 'stage.refused.task-not-done', params: { task: event.payload.task } }]),
  'record-recommendations': (context) => (context.key === recommendationsStage ? [] : [{ code: 'stage.refused.recommendations-closing-only' }]),
  complete: (context, event) => {
    const problems: Problem[] = [];
    const open = context.tasks.filter((t) => !t.done).length;
    if (open > 0) problems.push({ code: 'stage.refused.tasks-open', params: { count: open } });
    const definition = stageDefinition(context.key);
    const verdict = definition && event.facts.exit ? definition.exit(event.facts.exit) : { holds: false, code: 'unknown' };
    if (!verdict.holds) problems.push({ code: `stage.exit.${verdict.code}`, params: verdict.params ?? {} });
    return problems;
  },
};

/**
 * Why the stage refuses an event now: the role, then the event's own rule. The statechart's one
 * guard is this list being empty; the engine throws it, the stage page shows it as the blockers.
 */
export function whyNotStage(context: StageContext, event: StageRuleEvent): Problem[] {
  const problems: Problem[] = stageEventRoles[event.type].includes(event.actor.role) ? [] : [{ code: 'role', params: { role: event.actor.role } }];
  const rule = stageRules[event.type] as ((context: StageContext, event: StageRuleEvent) => Problem[]) | undefined;
  return [...problems, ...(rule ? rule(context, event) : [])];
}

export const stageMachine = setup({
  types: { context: {} as StageContext, events: {} as StageEvent, input: {} as StageInput },
  guards: {
    /** The one guard: no rule of `whyNotStage` refuses the event. */
    allowed: ({ context, event }) => whyNotStage(context, event).length === 0,
  },
  actions: {
    schedule: assign(({ context, event }) =>
      event.type === 'schedule' ? { plannedStart: event.payload.plannedStart, plannedEnd: event.payload.plannedEnd } : context,
    ),
    markStarted: assign({ startedAt: ({ context, event }) => context.startedAt ?? event.at }),
    completeTask: assign(({ context, event }) => {
      if (event.type !== 'complete-task') return context;
      const tasks = context.tasks.map((t) => (t.key === event.payload.task ? { ...t, done: true, doneAt: event.at, doneBy: event.actor.name } : t));
      // The informing task keeps the delivery record it was ticked from (issue 12).
      const record = event.payload.task === informingTask ? event.facts.informing : undefined;
      return record ? { tasks, informed: { ...record, at: event.at } } : { tasks };
    }),
    reopenTask: assign({
      tasks: ({ context, event }) =>
        event.type === 'reopen-task' ? context.tasks.map((t) => (t.key === event.payload.task ? { ...t, done: false, doneAt: null, doneBy: null } : t)) : context.tasks,
    }),
    markCompleted: assign({ completedAt: ({ event }) => event.at }),
    recordRecommendations: assign({
      recommendations: ({ context, event }) =>
        event.type === 'record-recommendations' ? [...(context.recommendations ?? []), { text: event.payload.text, at: event.at, by: event.actor.name }] : context.recommendations,
    }),
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
        'record-recommendations': { guard: 'allowed', actions: 'recordRecommendations' },
      },
    },
    completed: {
      on: {
        reopen: { guard: 'allowed', target: 'active', actions: 'recordReopening' },
        // The report is written once the stage's work is done: its recommendations may come after.
        'record-recommendations': { guard: 'allowed', actions: 'recordRecommendations' },
      },
    },
  },
});

export const stageStates = ['planned', 'active', 'completed'] as const;

/** A stage is running while it is active: the timeline and the overview mark it. */
export const stageRunning = (state: string): boolean => state === 'active';
