import { assign, setup } from 'xstate';
import { z } from 'zod';
import { fitsRule } from '../src/domain/documents.ts';
import {
  entryMunicipalities,
  isJournalKind,
  journalDocumentRules,
  journalDocumentSchema,
  journalFieldProblems,
  journalKindDocuments,
  journalKindStages,
  type JournalDocument,
  type JournalKind,
} from '../src/domain/journal.ts';
import type { Problem } from '../src/domain/problems.ts';
import type { Actor, Role } from '../src/domain/roles.ts';

/**
 * One entry of the programme journal (issue 14): recorded once, never edited. A correction is a
 * new entry that supersedes this one (which then stands `superseded`); documents may be added to
 * a recorded entry, and a final meeting may be linked to the application it produced. Pure: the
 * facts its rules read (the active stages, the application, the municipalities) arrive with the
 * event and are stored with it.
 */
export const journalMachineId = 'journal';
export const journalMachineVersion = 1;

export const journalEventSchemas = {
  /** Written only by the upload, after the file is stored under its SHA-256. */
  'attach-document': journalDocumentSchema,
  'link-application': z.strictObject({ applicationId: z.number().int().min(1).max(1_000_000_000) }),
  /** Written only by the correction, in the transaction that records the entry that supersedes this one. */
  supersede: z.strictObject({ by: z.number().int().min(1).max(1_000_000_000) }),
} as const;

export type JournalEventType = keyof typeof journalEventSchemas;

/** Coordinators and reviewers (consultants) keep the journal. */
export const journalCreateRoles: readonly Role[] = ['coordinator', 'reviewer'];
export const journalEventRoles: Record<JournalEventType, readonly Role[]> = {
  'attach-document': journalCreateRoles,
  'link-application': journalCreateRoles,
  supersede: journalCreateRoles,
};

export const journalEventChannels = {
  'attach-document': { channel: 'upload', reason: 'journal.refused.uploadOnly' },
  supersede: { channel: 'correction', reason: 'journal.refused.correctionOnly' },
} as const satisfies Partial<Record<JournalEventType, { channel: string; reason: string }>>;

/** The application an entry names, as the database holds it at the moment of the event. */
export interface JournalApplicationFact {
  id: number;
  programmeId: number;
  municipalityId: number;
  state: string;
}

/** What `create` is allowed on. */
export interface JournalCreateFacts {
  activeStages?: string[];
  /** The application the fields name (`applicationId`), or null when there is none such. */
  application?: JournalApplicationFact | null;
  /** Which of the municipalities the fields name exist. */
  knownMunicipalities?: number[];
  /** The entry a correction supersedes. */
  superseded?: { id: number; programmeId: number; kind: string; state: string } | null;
  /** The moment of recording (the engine's clock), which the entry's date may not be after. */
  now?: string;
}

export interface JournalInput {
  programmeId: number;
  kind: JournalKind;
  fields: Record<string, unknown>;
  /** The entry this one corrects, or null. */
  supersedes: number | null;
  actor: Actor;
  at: string;
}

export interface JournalContext {
  programmeId: number;
  kind: JournalKind;
  fields: Record<string, unknown>;
  supersedes: number | null;
  supersededBy: number | null;
  /** The application a final meeting produced (linked after it was recorded), or the one the fields name. */
  applicationId: number | null;
  documents: JournalDocument[];
  recordedAt: string;
  recordedBy: { id: number; name: string; role: Role };
}

export interface JournalEventFacts {
  /** `link-application`: the applications of the entry's municipality in its programme. */
  applications?: number[];
}

type Payloads = { [K in JournalEventType]: z.output<(typeof journalEventSchemas)[K]> };
export type JournalEvent = {
  [K in JournalEventType]: { type: K; payload: Payloads[K]; facts: JournalEventFacts; actor: Actor; at: string };
}[JournalEventType];
type RuleEvent = { [K in JournalEventType]: Omit<Extract<JournalEvent, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[JournalEventType];

/** Awarded applications are the ones built: an opening ceremony opens one of them. */
const built = (state: string) => state.startsWith('implementation.') || state === 'closed' || state === 'awarded';

/** The day after the event's own (UTC) day: the programme's local date may be a few hours ahead. */
function latestDate(at: string): string {
  return new Date(Date.parse(at) + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

/**
 * Why an entry cannot be recorded (or a correction made) now: the kind, the stage that owns it
 * being active, the fields, the application and municipality they name, the entry it supersedes.
 * Without `fields` (a page asking what it may offer) only what no field can fix is said.
 */
export function whyNotCreateJournal(input: { kind?: unknown; fields?: unknown; supersedes?: unknown; programmeId?: unknown }, facts: JournalCreateFacts, actor: Pick<Actor, 'role'>): Problem[] {
  const problems: Problem[] = [];
  if (!journalCreateRoles.includes(actor.role)) problems.push({ code: 'role', params: { role: actor.role } });
  if (!isJournalKind(input.kind)) return [...problems, { field: 'kind', code: 'journal.problem.unknown-kind' }];
  const kind = input.kind;
  const owners = journalKindStages[kind];
  if (!owners.some((stage) => (facts.activeStages ?? []).includes(stage))) {
    problems.push({ code: 'journal.refused.stage-closed', params: { kind, stages: owners.join(',') } });
  }
  if (input.supersedes !== undefined && input.supersedes !== null) {
    const old = facts.superseded;
    if (!old || old.programmeId !== input.programmeId) problems.push({ code: 'journal.refused.superseded-unknown', params: { id: Number(input.supersedes) } });
    else if (old.state !== 'recorded') problems.push({ code: 'journal.refused.already-superseded', params: { id: old.id } });
    else if (old.kind !== kind) problems.push({ code: 'journal.refused.superseded-other-kind', params: { id: old.id } });
  }
  if (input.fields === undefined) return problems;
  const fields = (input.fields ?? {}) as Record<string, unknown>;
  problems.push(...journalFieldProblems(kind, fields));
  const known = facts.knownMunicipalities ?? [];
  if (typeof fields.municipalityId === 'number' && !known.includes(fields.municipalityId)) problems.push({ field: 'municipalityId', code: 'journal.problem.unknown-municipality' });
  if (kind === 'training' && Array.isArray(fields.municipalityIds) && fields.municipalityIds.some((id) => !known.includes(id as number))) {
    problems.push({ field: 'municipalityIds', code: 'journal.problem.unknown-municipality' });
  }
  if (typeof fields.applicationId === 'number') {
    const application = facts.application;
    if (!application || application.id !== fields.applicationId || application.programmeId !== input.programmeId) {
      problems.push({ field: 'applicationId', code: 'journal.problem.unknown-application' });
    } else if (typeof fields.municipalityId === 'number' && application.municipalityId !== fields.municipalityId) {
      // A consultation or a meeting about an application is about that application's municipality.
      problems.push({ field: 'applicationId', code: 'journal.problem.application-other-municipality' });
    } else if (kind === 'opening-ceremony' && !built(application.state)) {
      problems.push({ field: 'applicationId', code: 'journal.problem.application-not-awarded' });
    }
  }
  // A date after the moment of recording has not come yet (the programme's day may be a few hours ahead of UTC's).
  if (typeof fields.date === 'string' && facts.now && !problems.some((p) => p.field === 'date') && fields.date > latestDate(facts.now)) {
    problems.push({ field: 'date', code: 'journal.problem.date-in-future' });
  }
  return problems;
}

const rules: { [K in JournalEventType]?: (context: JournalContext, event: Extract<RuleEvent, { type: K }>) => Problem[] } = {
  'attach-document': (context, event) => {
    if (event.payload === undefined) return journalKindDocuments[context.kind].length > 0 ? [] : [{ code: 'journal.refused.no-documents', params: { kind: context.kind } }];
    if (!journalKindDocuments[context.kind].includes(event.payload.role)) return [{ field: 'role', code: 'journal.problem.document-role' }];
    return fitsRule(journalDocumentRules[event.payload.role], event.payload) ? [] : [{ field: 'file', code: 'document-type-not-accepted' }];
  },
  'link-application': (context, event) => {
    if (context.kind !== 'final-meeting') return [{ code: 'journal.refused.link-not-final-meeting' }];
    if (context.applicationId !== null) return [{ code: 'journal.refused.already-linked', params: { id: context.applicationId } }];
    if (event.payload === undefined) return [];
    return (event.facts.applications ?? []).includes(event.payload.applicationId) ? [] : [{ field: 'applicationId', code: 'journal.problem.application-other-municipality' }];
  },
};

/** Why a recorded entry refuses an event: the role, then the event's own rule. */
export function whyNotJournal(context: JournalContext, event: RuleEvent): Problem[] {
  const problems: Problem[] = journalEventRoles[event.type].includes(event.actor.role) ? [] : [{ code: 'role', params: { role: event.actor.role } }];
  const rule = rules[event.type] as ((context: JournalContext, event: RuleEvent) => Problem[]) | undefined;
  return [...problems, ...(rule ? rule(context, event) : [])];
}

export const journalMachine = setup({
  types: { context: {} as JournalContext, events: {} as JournalEvent, input: {} as JournalInput },
  guards: {
    /** The one guard: no rule of `whyNotJournal` refuses the event. */
    allowed: ({ context, event }) => whyNotJournal(context, event).length === 0,
  },
  actions: {
    recordDocument: assign({
      documents: ({ context, event }) => (event.type === 'attach-document' ? [...context.documents, { ...event.payload, attachedAt: event.at }] : context.documents),
    }),
    linkApplication: assign({
      applicationId: ({ context, event }) => (event.type === 'link-application' ? event.payload.applicationId : context.applicationId),
    }),
    markSuperseded: assign({
      supersededBy: ({ context, event }) => (event.type === 'supersede' ? event.payload.by : context.supersededBy),
    }),
  },
}).createMachine({
  id: journalMachineId,
  initial: 'recorded',
  context: ({ input }) => ({
    programmeId: input.programmeId,
    kind: input.kind,
    fields: input.fields,
    supersedes: input.supersedes ?? null,
    supersededBy: null,
    applicationId: typeof input.fields.applicationId === 'number' ? input.fields.applicationId : null,
    documents: [],
    recordedAt: input.at,
    recordedBy: { id: input.actor.id, name: input.actor.name, role: input.actor.role },
  }),
  states: {
    recorded: {
      on: {
        'attach-document': { guard: 'allowed', actions: 'recordDocument' },
        'link-application': { guard: 'allowed', actions: 'linkApplication' },
        supersede: { guard: 'allowed', target: 'superseded', actions: 'markSuperseded' },
      },
    },
    superseded: { type: 'final' },
  },
});

export const journalStates = ['recorded', 'superseded'] as const;

/** Every municipality a recorded entry covers (the training's attendees, the meeting's municipality). */
export const contextMunicipalities = (context: Pick<JournalContext, 'kind' | 'fields'>, applicationMunicipality: number | null = null): number[] =>
  entryMunicipalities(context.kind, context.fields, applicationMunicipality);

/** An entry stands until a correction supersedes it: lists, coverage and exits count only standing entries. */
export const journalStanding = (state: string): boolean => state === 'recorded';
