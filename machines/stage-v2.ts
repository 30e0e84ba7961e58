import { assign, setup } from 'xstate';
import { z } from 'zod';
import type { Actor, Role } from '../src/domain/roles.ts';
import type { Problem } from '../src/domain/problems.ts';
import { refineText, text } from '../src/domain/text.ts';
import { stageDefinition, stageDefinitions, type StageFacts } from './stages.ts';

/**
 * A programme stage, version 2, FROZEN: it replays the stage streams written with it (DESIGN §4.5)
 * and is never edited. Version 3 (machines/stage.ts) adds the coordinator's recommendations of the
 * closing stage (issue 13) and takes a stream over at its next event. Its exit conditions are the
 * ones of machines/stages.ts, which version 3 shares unchanged.
 */
export const stageMachineId = 'stage';
export const stageMachineV2Version = 2;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'not a date');

export const stageEventSchemasV2 = {
  schedule: z
    .strictObject({ plannedStart: isoDate, plannedEnd: isoDate })
    .refine((value) => value.plannedStart <= value.plannedEnd, { message: 'the end comes before the start', path: ['plannedEnd'] }),
  start: z.strictObject({}),
  'complete-task': z.strictObject({ task: refineText(z.string().min(1).max(64)) }),
  'reopen-task': z.strictObject({ task: refineText(z.string().min(1).max(64)) }),
  complete: z.strictObject({}),
  reopen: z.strictObject({ reason: text({ max: 2000, multiline: true }) }),
} as const;

export type StageEventTypeV2 = keyof typeof stageEventSchemasV2;
export const stageEventTypesV2 = Object.keys(stageEventSchemasV2) as StageEventTypeV2[];

export const stageEventRolesV2: Record<StageEventTypeV2, readonly Role[]> = {
  schedule: ['coordinator'],
  start: ['coordinator'],
  'complete-task': ['coordinator'],
  'reopen-task': ['coordinator'],
  complete: ['coordinator'],
  reopen: ['coordinator'],
};

/** Stages are created with their programme, by the admin who creates it. */
export const stageCreateRolesV2: readonly Role[] = ['admin'];

export interface StageEventFactsV2 {
  /** The state of the stage before this one; null for the first stage. */
  previousState?: string | null;
  exit?: StageFacts;
  /**
   * `complete-task` in a stage that holds the informing task: what became of the results sent to
   * the participants (src/workflows/informing/). That task is ticked from this record only.
   */
  informing?: InformingFactsV2;
}

/** The delivery record of the results sent to the participants, counted when the task is ticked from it. */
export interface InformingFactsV2 {
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
export const informingTaskV2 = 'informing';

type Payloads = { [K in StageEventTypeV2]: z.output<(typeof stageEventSchemasV2)[K]> };
export type StageEventV2 = {
  [K in StageEventTypeV2]: { type: K; payload: Payloads[K]; facts: StageEventFactsV2; actor: Actor; at: string };
}[StageEventTypeV2];

export interface StageInputV2 {
  programmeId: number;
  no: number;
  key: string;
  tasks: string[];
  plannedStart?: string | null;
  plannedEnd?: string | null;
  actor: Actor;
  at: string;
}

export interface StageTaskV2 {
  key: string;
  done: boolean;
  doneAt: string | null;
  doneBy: string | null;
}

export interface StageContextV2 {
  programmeId: number;
  no: number;
  key: string;
  tasks: StageTaskV2[];
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
  reopenings: { at: string; reason: string }[];
  /** The delivery record that ticked the informing task; absent until then (older snapshots stay as they were). */
  informed?: InformingFactsV2 & { at: string };
}

const hasTask = (context: StageContextV2, key: string, done: boolean) => context.tasks.some((t) => t.key === key && t.done === done);

/**
 * The informing task is ticked from the delivery record the engine carries: refused while nobody
 * was sent a result, or while e-mails are still on their way. Without a record (a machine asked
 * directly) nothing is known against it.
 */
function informingProblems(record: InformingFactsV2 | undefined): Problem[] {
  if (record === undefined) return [];
  if (record.total === 0) return [{ code: 'stage.refused.nobody-informed' }];
  if (record.pending > 0) return [{ code: 'stage.refused.informing-pending', params: { count: record.pending } }];
  return [];
}

type StageRuleEvent = { [K in StageEventTypeV2]: Omit<Extract<StageEventV2, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[StageEventTypeV2];

/** What each event asks of the stage: the stage before started, the task open or done, the checklist and the exit condition. */
const stageRules: { [K in StageEventTypeV2]?: (context: StageContextV2, event: Extract<StageRuleEvent, { type: K }>) => Problem[] } = {
  start: (context, event) => {
    if (context.no === 1) return [];
    const previous = event.facts.previousState;
    if (previous !== undefined && previous !== null && previous !== 'planned') return [];
    return [{ code: 'stage.refused.previous-planned', params: { stage: stageDefinitions.find((d) => d.no === context.no - 1)?.key ?? '' } }];
  },
  'complete-task': (context, event) => {
    if (event.payload === undefined) return [];
    if (!hasTask(context, event.payload.task, false)) return [{ code: 'stage.refused.task-not-open', params: { task: event.payload.task } }];
    return event.payload.task === informingTaskV2 ? informingProblems(event.facts.informing) : [];
  },
  'reopen-task': (context, event) => (event.payload === undefined || hasTask(context, event.payload.task, true) ? [] : [{ code: 'stage.refused.task-not-done', params: { task: event.payload.task } }]),
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
export function whyNotStageV2(context: StageContextV2, event: StageRuleEvent): Problem[] {
  const problems: Problem[] = stageEventRolesV2[event.type].includes(event.actor.role) ? [] : [{ code: 'role', params: { role: event.actor.role } }];
  const rule = stageRules[event.type] as ((context: StageContextV2, event: StageRuleEvent) => Problem[]) | undefined;
  return [...problems, ...(rule ? rule(context, event) : [])];
}

export const stageMachineV2 = setup({
  types: { context: {} as StageContextV2, events: {} as StageEventV2, input: {} as StageInputV2 },
  guards: {
    /** The one guard: no rule of `whyNotStageV2` refuses the event. */
    allowed: ({ context, event }) => whyNotStageV2(context, event).length === 0,
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
      const record = event.payload.task === informingTaskV2 ? event.facts.informing : undefined;
      return record ? { tasks, informed: { ...record, at: event.at } } : { tasks };
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
