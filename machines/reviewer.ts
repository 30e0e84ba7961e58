import { assign, setup } from 'xstate';
import { z } from 'zod';
import type { Problem } from '../src/domain/problems.ts';
import type { Actor, Role } from '../src/domain/roles.ts';

/**
 * A reviewer's declarations of conflicts of interest (issue 16), one stream per reviewer: a
 * reviewer may not review, take or be given an application of a municipality they declared a
 * conflict with. Declaring and withdrawing are events, so that who knew what, and when, is in the
 * log. Pure: whether the municipality exists arrives in the event's facts.
 */
export const reviewerMachineId = 'reviewer';
export const reviewerMachineVersion = 1;

const municipalityId = z.number().int().min(1).max(2_147_483_647);

export const reviewerEventSchemas = {
  'declare-conflict': z.strictObject({ municipalityId, reason: z.string().trim().min(1).max(500) }),
  'withdraw-conflict': z.strictObject({ municipalityId }),
} as const;

export type ReviewerEventType = keyof typeof reviewerEventSchemas;

/** A reviewer declares and withdraws their own conflicts. */
export const reviewerEventRoles: Record<ReviewerEventType, readonly Role[]> = {
  'declare-conflict': ['reviewer'],
  'withdraw-conflict': ['reviewer'],
};
export const reviewerCreateRoles: readonly Role[] = ['reviewer'];
/** Who besides the reviewer sees their declarations: those who assign, and those who audit. */
export const reviewerOverseerRoles: readonly Role[] = ['coordinator', 'auditor', 'admin'];

export interface ReviewerFacts {
  /** Whether the municipality the payload names exists, at the moment of the event. */
  municipalityKnown?: boolean;
}

export interface Conflict {
  municipalityId: number;
  reason: string;
  since: string;
}

export interface ReviewerContext {
  userId: number;
  conflicts: Conflict[];
}

type Payloads = { [K in ReviewerEventType]: z.output<(typeof reviewerEventSchemas)[K]> };
export type ReviewerEvent = { [K in ReviewerEventType]: { type: K; payload: Payloads[K]; facts: ReviewerFacts; actor: Actor; at: string } }[ReviewerEventType];
type RuleEvent = { [K in ReviewerEventType]: Omit<Extract<ReviewerEvent, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[ReviewerEventType];

export const reviewerStreamId = (userId: number) => `reviewer-${userId}`;

/** Why the reviewer's stream refuses an event: only its reviewer declares, a municipality once, a withdrawal of what was declared. */
export function whyNotReviewer(context: ReviewerContext, event: RuleEvent): Problem[] {
  if (event.actor.id !== context.userId) return [{ code: 'reviewer.refused.notYours' }];
  if (event.payload === undefined) return [];
  const declared = context.conflicts.some((conflict) => conflict.municipalityId === event.payload!.municipalityId);
  if (event.type === 'declare-conflict') {
    if (!event.facts.municipalityKnown) return [{ field: 'municipalityId', code: 'unknown' }];
    if (declared) return [{ field: 'municipalityId', code: 'conflict-declared' }];
  }
  if (event.type === 'withdraw-conflict' && !declared) return [{ field: 'municipalityId', code: 'conflict-not-declared' }];
  return [];
}

/** A reviewer opens their own stream only. */
export function whyNotCreateReviewer(input: Record<string, unknown>, _facts: unknown, actor: Actor): Problem[] {
  return input.userId === actor.id ? [] : [{ code: 'reviewer.refused.notYours' }];
}

export const reviewerMachine = setup({
  types: {
    context: {} as ReviewerContext,
    events: {} as ReviewerEvent,
    input: {} as { userId: number; actor: Actor; at: string },
  },
  guards: {
    allowed: ({ context, event }) => whyNotReviewer(context, event).length === 0,
  },
  actions: {
    declare: assign({
      conflicts: ({ context, event }) =>
        event.type === 'declare-conflict' ? [...context.conflicts, { municipalityId: event.payload.municipalityId, reason: event.payload.reason, since: event.at }] : context.conflicts,
    }),
    withdraw: assign({
      conflicts: ({ context, event }) => (event.type === 'withdraw-conflict' ? context.conflicts.filter((c) => c.municipalityId !== event.payload.municipalityId) : context.conflicts),
    }),
  },
}).createMachine({
  id: reviewerMachineId,
  initial: 'active',
  context: ({ input }) => ({ userId: input.userId, conflicts: [] }),
  states: {
    active: {
      on: {
        'declare-conflict': { guard: 'allowed', actions: 'declare' },
        'withdraw-conflict': { guard: 'allowed', actions: 'withdraw' },
      },
    },
  },
});
