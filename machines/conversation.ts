import { assign, setup } from 'xstate';
import { z } from 'zod';
import { documentNameSchema, mediaTypes } from '../src/domain/documents.ts';
import type { Problem } from '../src/domain/problems.ts';
import { text } from '../src/domain/text.ts';
import type { Actor, Role } from '../src/domain/roles.ts';

/**
 * The conversation on one application (issue 12): messages between its municipality's applicants
 * and the staff, internal notes among the staff, answers to a remark or to another message. A
 * stream of its own, so that posting never moves the application's version; its events are ledger
 * events like any other, hash-chained and replayed by verify. Never edited, never deleted: the
 * machine has no event that would. Pure: the remarks a message may answer arrive in its facts.
 */
export const conversationMachineId = 'conversation';
export const conversationMachineVersion = 1;

/** A file attached to a message: stored in the document store under its SHA-256 before the event is written. */
export const messageAttachmentSchema = z.strictObject({
  name: documentNameSchema,
  size: z.number().int().min(1).max(50 * 1024 * 1024),
  mediaType: z.enum(mediaTypes as [string, ...string[]]),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type MessageAttachment = z.infer<typeof messageAttachmentSchema>;

/** `message:<seq>` names a message of the same conversation, `remark:<seq>:<n>` the n-th remark of the application's return event `seq`. */
export const replyToSchema = z.string().regex(/^(?:message:\d{1,9}|remark:\d{1,9}:\d{1,3})$/, 'message:<seq> or remark:<seq>:<n>');

export const conversationEventSchemas = {
  'post-message': z.strictObject({
    text: text({ max: 5000, multiline: true }),
    replyTo: replyToSchema.optional(),
    internal: z.boolean().optional(),
    attachments: z.array(messageAttachmentSchema).max(5).optional(),
  }),
} as const;

export type ConversationEventType = keyof typeof conversationEventSchemas;
export type PostMessagePayload = z.output<(typeof conversationEventSchemas)['post-message']>;

/** Who may write in a conversation: the applicants of its municipality and the staff who work on applications. */
export const conversationEventRoles: Record<ConversationEventType, readonly Role[]> = {
  'post-message': ['applicant', 'reviewer', 'coordinator'],
};
/** A conversation opens with its first message, by whoever writes it. */
export const conversationCreateRoles: readonly Role[] = conversationEventRoles['post-message'];
/** Who may write an internal note, which applicants never see. */
export const internalNoteRoles: readonly Role[] = ['reviewer', 'coordinator'];

/** Who answers the remarks of a return, in place beside them: the applicants it was returned to. */
export const remarkAnswerRoles: readonly Role[] = ['applicant'];

/** Whether this role writes internal notes, and whether it answers remarks: what the page offers. */
export const writesInternalNotes = (role: Role): boolean => internalNoteRoles.includes(role);
export const answersRemarks = (role: Role): boolean => remarkAnswerRoles.includes(role);

/** Whether someone of this role may read a message: an internal note is for the staff only. */
export function messageVisibleTo(message: { internal: boolean }, role: Role): boolean {
  return !message.internal || role !== 'applicant';
}

/** A remark of the application's latest return, as the facts of a message carry it while the application is back for revision. */
export interface RemarkFact {
  id: string;
  field: string;
  text: string;
}

export interface ConversationFacts {
  /** The remarks a message may answer now: those of the return the application is back for. */
  remarks?: RemarkFact[];
}

export interface ConversationInput {
  applicationId: number;
  municipalityId: number;
  programmeId: number;
  actor: Actor;
  at: string;
}

export interface ConversationContext {
  applicationId: number;
  municipalityId: number;
  programmeId: number;
  /** The seq of the last event: the next message is `lastSeq + 1`. */
  lastSeq: number;
  /** The seqs of the internal notes, so that nobody points an applicant at one. */
  internal: number[];
  /** The staff who wrote here: they hear of the next message. */
  staff: number[];
}

export type ConversationEvent = { type: 'post-message'; payload: PostMessagePayload; facts: ConversationFacts; actor: Actor; at: string };
type RuleEvent = Omit<ConversationEvent, 'payload'> & { payload: PostMessagePayload | undefined };

const messageSeq = (replyTo: string) => Number(replyTo.split(':')[1]);

/**
 * Why the conversation refuses a message: the role, the municipality, an internal note from an
 * applicant, an answer to something that is not there (or is hidden from the applicant).
 */
export function whyNotConversation(context: ConversationContext, event: RuleEvent): Problem[] {
  const problems: Problem[] = [];
  if (!conversationEventRoles[event.type].includes(event.actor.role)) problems.push({ code: 'role', params: { role: event.actor.role } });
  if (event.actor.role === 'applicant' && event.actor.municipalityId !== context.municipalityId) problems.push({ code: 'not-own-municipality' });
  const payload = event.payload;
  if (payload === undefined) return problems;
  if (payload.internal && !internalNoteRoles.includes(event.actor.role)) problems.push({ field: 'internal', code: 'conversation.internal-staff-only' });
  const replyTo = payload.replyTo;
  if (replyTo?.startsWith('message:')) {
    const seq = messageSeq(replyTo);
    if (seq < 2 || seq > context.lastSeq) problems.push({ field: 'replyTo', code: 'conversation.reply-unknown' });
    // A message everyone reads never points at a note some of its readers may not see.
    else if (context.internal.includes(seq) && !payload.internal) problems.push({ field: 'replyTo', code: 'conversation.reply-to-internal' });
  } else if (replyTo?.startsWith('remark:')) {
    if (!remarkAnswerRoles.includes(event.actor.role)) problems.push({ field: 'replyTo', code: 'conversation.answer-applicants-only' });
    else if (!(event.facts.remarks ?? []).some((remark) => remark.id === replyTo)) problems.push({ field: 'replyTo', code: 'conversation.remark-closed' });
    else if (payload.internal) problems.push({ field: 'internal', code: 'conversation.answer-not-internal' });
  }
  return problems;
}

/** Why a conversation cannot be opened by this actor: only its municipality's applicants and the staff write in it. */
export function whyNotCreateConversation(input: Record<string, unknown>, _facts: Record<string, unknown>, actor: Actor): Problem[] {
  return actor.role === 'applicant' && actor.municipalityId !== input.municipalityId ? [{ code: 'not-own-municipality' }] : [];
}

export const conversationMachine = setup({
  types: { context: {} as ConversationContext, events: {} as ConversationEvent, input: {} as ConversationInput },
  guards: {
    allowed: ({ context, event }) => whyNotConversation(context, event).length === 0,
  },
  actions: {
    recordMessage: assign(({ context, event }) => {
      const seq = context.lastSeq + 1;
      const staff = event.actor.role !== 'applicant' && !context.staff.includes(event.actor.id) ? [...context.staff, event.actor.id] : context.staff;
      return { lastSeq: seq, internal: event.payload.internal ? [...context.internal, seq] : context.internal, staff };
    }),
  },
}).createMachine({
  id: conversationMachineId,
  initial: 'open',
  context: ({ input }) => ({
    applicationId: input.applicationId,
    municipalityId: input.municipalityId,
    programmeId: input.programmeId,
    lastSeq: 1,
    internal: [],
    staff: [],
  }),
  states: {
    open: {
      on: { 'post-message': { guard: 'allowed', actions: 'recordMessage' } },
    },
  },
});
