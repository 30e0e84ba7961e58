import { assign, setup } from 'xstate';
import { z } from 'zod';
import {
  formPatchSchema,
  mergeForm,
  reasonSchema,
  remarksSchema,
  submitProblems,
  type ApplicationForm,
  type ProgrammeRules,
  type Remark,
} from '../src/domain/application.ts';
import type { Problem } from '../src/domain/problems.ts';
import type { Actor, Role } from '../src/domain/roles.ts';
import { text } from '../src/domain/text.ts';
import {
  attachDocumentSchema,
  documentRemarks,
  fitsRule,
  missingDocuments,
  reviewDocumentSchema,
  unacceptedDocuments,
  type DocumentRule,
  type DocumentSet,
} from '../src/domain/documents.ts';

/**
 * The competition application, version 2, FROZEN (DESIGN §4.5): it replays the streams written with
 * it and is never edited; version 3 (machines/application.ts, issue 11) takes a stream over at its
 * next event. The stage ownership of its events is copied here as it was, so that a later change of
 * machines/stages.ts cannot change how a version-2 history replays. Pure: every fact a guard reads — who sends the event,
 * when, the programme's rules — arrives in the event and is stored with it, so replay is exact.
 */
export const applicationMachineId = 'application';
export const applicationMachineV2Version = 2;

/** The payload each event takes from its sender; the engine validates it before the machine sees it. */
export const applicationEventSchemasV2 = {
  update: formPatchSchema.refine((patch) => Object.keys(patch).length > 0, 'an update must change at least one field'),
  submit: z.strictObject({}),
  'start-review': z.strictObject({}),
  // Remarks may be left out when the reviewer's document remarks say it all (guard `hasRemarks`).
  'return-for-revision': z.strictObject({ remarks: remarksSchema.optional() }),
  accept: z.strictObject({ comment: text({ min: 0, max: 2000, multiline: true }).optional() }),
  reject: z.strictObject({ reason: reasonSchema }),
  withdraw: z.strictObject({ reason: reasonSchema }),
  score: z.strictObject({
    significance: z.number().min(0).max(5),
    comment: text({ min: 0, max: 2000, multiline: true }).optional(),
  }),
  award: z.strictObject({ amountKopecks: z.number().int().min(1).max(10_000_000_000_000) }),
  // The decision records why, as a code with the rank (older events carry a comment in words instead).
  'not-award': z.strictObject({
    comment: text({ min: 0, max: 2000, multiline: true }).optional(),
    why: z.enum(['above-cap', 'over-remainder', 'nothing-requested']).optional(),
    rank: z.number().int().min(1).max(100_000).optional(),
    count: z.number().int().min(1).max(100_000).optional(),
  }),
  'start-implementation': z.strictObject({}),
  'sign-agreement': z.strictObject({ agreementNo: text({ max: 100 }) }),
  'confirm-contributions': z.strictObject({}),
  'sign-contract': z.strictObject({
    contractor: text({ max: 300 }),
    priceKopecks: z.number().int().min(1).max(10_000_000_000_000),
  }),
  'report-progress': z.strictObject({ percent: z.number().int().min(0).max(100), note: text({ min: 0, max: 2000, multiline: true }).optional() }),
  'complete-works': z.strictObject({}),
  'record-monitoring': z.strictObject({ finding: text({ max: 2000, multiline: true }) }),
  close: z.strictObject({}),
  terminate: z.strictObject({ reason: reasonSchema }),
  /** Written only by the upload, after the file is stored under its SHA-256 (src/engine/documents.ts). */
  'attach-document': attachDocumentSchema,
  'review-document': reviewDocumentSchema,
  /** A coordinator gives the application to a reviewer; `take` is the reviewer taking it, `release` giving it back (issue 16). */
  assign: z.strictObject({ reviewerId: z.number().int().min(1).max(2_147_483_647) }),
  take: z.strictObject({}),
  release: z.strictObject({}),
} as const;

export type ApplicationEventTypeV2 = keyof typeof applicationEventSchemasV2;
export const applicationEventTypesV2 = Object.keys(applicationEventSchemasV2) as ApplicationEventTypeV2[];

/** The roles that may send each event. Applicants act only on their own municipality's applications. */
export const applicationEventRolesV2: Record<ApplicationEventTypeV2, readonly Role[]> = {
  update: ['applicant'],
  submit: ['applicant'],
  withdraw: ['applicant'],
  'start-review': ['reviewer'],
  'return-for-revision': ['reviewer'],
  accept: ['reviewer'],
  reject: ['reviewer'],
  score: ['commission'],
  award: ['commission'],
  'not-award': ['commission'],
  'start-implementation': ['coordinator'],
  'sign-agreement': ['coordinator'],
  'confirm-contributions': ['coordinator'],
  'sign-contract': ['coordinator'],
  'report-progress': ['applicant', 'coordinator'],
  'complete-works': ['coordinator'],
  'record-monitoring': ['coordinator'],
  close: ['coordinator'],
  terminate: ['coordinator'],
  'attach-document': ['applicant'],
  'review-document': ['reviewer'],
  assign: ['coordinator'],
  take: ['reviewer'],
  release: ['reviewer', 'coordinator'],
};

/** The event that opens a stream; who may create an application. */
export const applicationCreateRolesV2: readonly Role[] = ['applicant'];

export interface EventFactsV2 {
  rules?: ProgrammeRules;
  /** The keys of the programme's stages active at the moment of the event (DESIGN §2). */
  activeStages?: string[];
  /** `submit` and `accept`: the document kinds the programme requires for this application's project type. */
  requiredDocuments?: string[];
  /** `attach-document`: what the programme accepts for each kind of document (types, size limit). */
  documentRules?: DocumentRule[];
  /** `assign`: the user the payload names, as the users table had them at the moment of the event. */
  assignee?: { id: number; role: string; active: boolean } | null;
  /** Reviewers' events and `assign`: the reviewers who declared a conflict of interest with this application's municipality. */
  conflictedReviewers?: number[];
  /** A first `submit`: the registration number it gives the application (issue 13); the machine does not read it. */
  registration?: { no: string; seq: number };
}

type Payloads = { [K in ApplicationEventTypeV2]: z.output<(typeof applicationEventSchemasV2)[K]> };

export type ApplicationEventV2 = {
  [K in ApplicationEventTypeV2]: { type: K; payload: Payloads[K]; facts: EventFactsV2; actor: Actor; at: string };
}[ApplicationEventTypeV2];

export interface ApplicationInputV2 {
  programmeId: number;
  municipalityId: number;
  form: ApplicationForm;
  actor: Actor;
  at: string;
}

export interface MemberScoreV2 {
  significance: number;
  comment?: string;
  at: string;
}

export interface ApplicationContextV2 {
  programmeId: number;
  municipalityId: number;
  form: ApplicationForm;
  /** The remarks of the latest return for revision; cleared by the next submission. */
  remarks: Remark[];
  reason: string | null;
  firstSubmittedAt: string | null;
  submissions: number;
  scores: Record<string, MemberScoreV2>;
  awardedKopecks: number | null;
  agreementNo: string | null;
  contract: { contractor: string; priceKopecks: number } | null;
  progressPercent: number;
  monitoring: { finding: string; at: string }[];
  /** The documents by kind; absent until the first document or verdict (so older snapshots stay as they were). */
  documents?: DocumentSet;
  /** The reviewer the application is assigned to (issue 16); version 1 snapshots migrate with none. */
  assigneeId: number | null;
}

/** An event as the rules see it: the payload is absent when a page only asks what it may offer. */
type RuleEvent = { [K in ApplicationEventTypeV2]: Omit<Extract<ApplicationEventV2, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[ApplicationEventTypeV2];

/** Who and when: the role, the municipality, a stage owning the event being active. Blocking problems. */
function accessProblems(context: Pick<ApplicationContextV2, 'municipalityId'>, event: Pick<RuleEvent, 'type' | 'facts' | 'actor'>): Problem[] {
  const problems: Problem[] = [];
  if (!applicationEventRolesV2[event.type].includes(event.actor.role)) problems.push({ code: 'role', params: { role: event.actor.role } });
  if (event.actor.role === 'applicant' && event.actor.municipalityId !== context.municipalityId) problems.push({ code: 'not-own-municipality' });
  problems.push(...stageClosed(event.type, event.facts.activeStages ?? []));
  return problems;
}

/** Which stages owned each event when version 2 was written (machines/stages.ts of that time). */
const ownersV2: Record<string, readonly string[]> = {
  create: ['preliminary-meetings', 'final-meetings', 'documentation'],
  update: ['preliminary-meetings', 'final-meetings', 'documentation', 'intake'],
  'attach-document': ['preliminary-meetings', 'final-meetings', 'documentation', 'intake'],
  submit: ['documentation', 'intake'],
  'start-review': ['documentation', 'intake'],
  'review-document': ['documentation', 'intake'],
  'return-for-revision': ['documentation', 'intake'],
  assign: ['documentation', 'intake'],
  take: ['documentation', 'intake'],
  release: ['documentation', 'intake'],
  accept: ['intake'],
  reject: ['intake'],
  score: ['commission'],
  award: ['commission'],
  'not-award': ['commission'],
  'start-implementation': ['legal'],
  'sign-agreement': ['legal'],
  'confirm-contributions': ['legal'],
  'sign-contract': ['procurement'],
  'report-progress': ['works'],
  'complete-works': ['works'],
  'record-monitoring': ['monitoring'],
  close: ['closing'],
};

/** An event no active stage owned is refused, naming the stages that would have had to be active. */
function stageClosed(type: string, activeStages: readonly string[]): Problem[] {
  const owners = ownersV2[type] ?? [];
  if (owners.length === 0 || owners.some((stage) => activeStages.includes(stage))) return [];
  return [{ code: 'stage.closed', params: { event: type, stages: owners.join(',') } }];
}

/** The events by which a reviewer reviews an application: refused to a reviewer in a conflict of interest, or when another reviewer has it. */
export const reviewingEventTypesV2: readonly ApplicationEventTypeV2[] = ['start-review', 'review-document', 'return-for-revision', 'accept', 'reject', 'take'];

/**
 * Assignment (issue 16): a reviewer may not review, take or be given an application of a
 * municipality they declared a conflict of interest with; one the coordinator gave to another
 * reviewer is that reviewer's until it is released or given on.
 */
function assignmentProblems(context: ApplicationContextV2, event: RuleEvent): Problem[] {
  const assigneeId = context.assigneeId ?? null;
  const conflicted = event.facts.conflictedReviewers ?? [];
  const problems: Problem[] = [];
  if (event.actor.role === 'reviewer' && reviewingEventTypesV2.includes(event.type)) {
    if (conflicted.includes(event.actor.id)) problems.push({ code: 'assignment.refused.conflict' });
    if (event.type === 'take' && assigneeId === event.actor.id) problems.push({ code: 'assignment.refused.alreadyYours' });
    else if (assigneeId !== null && assigneeId !== event.actor.id) problems.push({ code: 'assignment.refused.assignedToAnother' });
  }
  if (event.type === 'release') {
    if (assigneeId === null) problems.push({ code: 'assignment.refused.nobody' });
    else if (event.actor.role === 'reviewer' && assigneeId !== event.actor.id) problems.push({ code: 'assignment.refused.notYours' });
  }
  if (event.type === 'assign' && event.payload !== undefined) {
    const { reviewerId } = event.payload;
    const assignee = event.facts.assignee;
    if (!assignee || assignee.id !== reviewerId || assignee.role !== 'reviewer' || !assignee.active) problems.push({ field: 'reviewerId', code: 'assignee-not-reviewer' });
    else if (conflicted.includes(reviewerId)) problems.push({ field: 'reviewerId', code: 'assignee-conflict' });
    else if (assigneeId === reviewerId) problems.push({ field: 'reviewerId', code: 'assignee-same' });
  }
  return problems;
}

/** What each event asks of the application itself: the form, the documents, the remarks, the amount. */
const contentRules: { [K in ApplicationEventTypeV2]?: (context: ApplicationContextV2, event: Extract<RuleEvent, { type: K }>) => Problem[] } = {
  submit: (context, event) => [
    ...(event.facts.rules ? submitProblems(context.form, event.facts.rules) : [{ code: 'programme-rules-unknown' }]),
    ...missingDocuments(context.documents, event.facts.requiredDocuments ?? []),
  ],
  accept: (context, event) => unacceptedDocuments(context.documents, event.facts.requiredDocuments ?? []),
  'attach-document': (_context, event) =>
    event.payload === undefined || fitsRule(event.facts.documentRules?.find((rule) => rule.kind === event.payload!.kind), event.payload)
      ? []
      : [{ field: 'file', code: 'document-type-not-accepted' }],
  /** A missing document may get a remark, never an acceptance. */
  'review-document': (context, event) =>
    event.payload?.verdict === 'remark' || (event.payload !== undefined && context.documents?.[event.payload.kind]?.file) ? [] : [{ field: 'kind', code: 'document-missing' }],
  'return-for-revision': (context, event) =>
    (event.payload?.remarks?.length ?? 0) > 0 || documentRemarks(context.documents).length > 0 ? [] : [{ field: 'remarks', code: 'remarks-required' }],
  award: (context, event) => {
    const requested = context.form.costs?.subsidy ?? 0;
    return event.payload !== undefined && event.payload.amountKopecks <= requested ? [] : [{ field: 'amountKopecks', code: 'award-above-request', params: { max: requested } }];
  },
};

/**
 * Why the application refuses an event now (DESIGN §3): every rule of its workflow, as problems
 * with codes and parameters. The statechart's one guard is this list being empty; the engine
 * throws it when an event is refused, and the pages and the API's `allowedEvents` ask it too.
 */
export function whyNotApplicationV2(context: ApplicationContextV2, event: RuleEvent): Problem[] {
  const rule = contentRules[event.type] as ((context: ApplicationContextV2, event: RuleEvent) => Problem[]) | undefined;
  return [...accessProblems(context, event), ...assignmentProblems(context, event), ...(rule ? rule(context, event) : [])];
}

/** Why an application cannot be opened now: `create` is owned by stages too. */
export function whyNotCreateApplicationV2(_input: unknown, facts: { activeStages?: string[] }): Problem[] {
  return stageClosed('create', facts.activeStages ?? []);
}

/**
 * Events sent by one path only, refused on any other with the reason: a document is attached by
 * uploading its file (which stores it under its SHA-256 first), and awards are given only by the
 * commission's decision for the whole ranking.
 */
export const applicationEventChannelsV2 = {
  'attach-document': { channel: 'upload', reason: 'documents.refused.uploadOnly' },
  award: { channel: 'decision', reason: 'commission.refused.decisionOnly' },
  'not-award': { channel: 'decision', reason: 'commission.refused.decisionOnly' },
} as const satisfies Partial<Record<ApplicationEventTypeV2, { channel: string; reason: string }>>;

/** The events about documents: the application page offers them on its documents card, apart from the other events. */
export const documentEventTypesV2: readonly ApplicationEventTypeV2[] = ['attach-document', 'review-document'];

/** Who has the application (issue 16): offered beside its assignee, apart from the decisions. */
export const assignmentEventTypesV2: readonly ApplicationEventTypeV2[] = ['assign', 'take', 'release'];

export const applicationMachineV2 = setup({
  types: {
    context: {} as ApplicationContextV2,
    events: {} as ApplicationEventV2,
    input: {} as ApplicationInputV2,
  },
  guards: {
    /** The one guard: no rule of `whyNotApplicationV2` refuses the event. */
    allowed: ({ context, event }) => whyNotApplicationV2(context, event).length === 0,
  },
  actions: {
    applyUpdate: assign({
      form: ({ context, event }) => (event.type === 'update' ? mergeForm(context.form, event.payload) : context.form),
    }),
    recordSubmission: assign({
      remarks: () => [],
      submissions: ({ context }) => context.submissions + 1,
      firstSubmittedAt: ({ context, event }) => context.firstSubmittedAt ?? event.at,
    }),
    /** The reviewer's remarks, then the remarks on documents not already remarked on in them. */
    recordRemarks: assign({
      remarks: ({ context, event }) => {
        if (event.type !== 'return-for-revision') return context.remarks;
        const given = event.payload.remarks ?? [];
        const onDocuments = documentRemarks(context.documents).filter((remark) => !given.some((r) => r.field === remark.field));
        return [...given, ...onDocuments];
      },
    }),
    /** A new file of a kind replaces the one before and waits for the reviewer again. */
    recordDocument: assign({
      documents: ({ context, event }) => {
        if (event.type !== 'attach-document') return context.documents;
        const { kind, name, size, mediaType, sha256 } = event.payload;
        return {
          ...context.documents,
          [kind]: { file: { name, size, mediaType, sha256, attachedAt: event.at }, verdict: 'pending', remark: null, reviewedAt: null },
        };
      },
    }),
    recordVerdict: assign({
      documents: ({ context, event }) => {
        if (event.type !== 'review-document') return context.documents;
        const { kind } = event.payload;
        const file = context.documents?.[kind]?.file ?? null;
        const remark = event.payload.verdict === 'remark' ? event.payload.remark : null;
        return { ...context.documents, [kind]: { file, verdict: event.payload.verdict, remark, reviewedAt: event.at } };
      },
    }),
    /** `assign` names the reviewer, `take` is the sender, `release` clears it; starting a review unassigned takes it. */
    recordAssignment: assign({
      assigneeId: ({ context, event }) => {
        if (event.type === 'assign') return event.payload.reviewerId;
        if (event.type === 'take') return event.actor.id;
        if (event.type === 'release') return null;
        if (event.type === 'start-review') return context.assigneeId ?? event.actor.id;
        return context.assigneeId ?? null;
      },
    }),
    recordReason: assign({
      reason: ({ context, event }) =>
        event.type === 'reject' || event.type === 'withdraw' || event.type === 'terminate' ? event.payload.reason : context.reason,
    }),
    recordScore: assign({
      scores: ({ context, event }) =>
        event.type === 'score'
          ? {
              ...context.scores,
              [String(event.actor.id)]: {
                significance: event.payload.significance,
                ...(event.payload.comment ? { comment: event.payload.comment } : {}),
                at: event.at,
              },
            }
          : context.scores,
    }),
    recordAward: assign({
      awardedKopecks: ({ context, event }) => (event.type === 'award' ? event.payload.amountKopecks : context.awardedKopecks),
    }),
    recordAgreement: assign({
      agreementNo: ({ context, event }) => (event.type === 'sign-agreement' ? event.payload.agreementNo : context.agreementNo),
    }),
    recordContract: assign({
      contract: ({ context, event }) =>
        event.type === 'sign-contract'
          ? { contractor: event.payload.contractor, priceKopecks: event.payload.priceKopecks }
          : context.contract,
    }),
    recordProgress: assign({
      progressPercent: ({ context, event }) => (event.type === 'report-progress' ? event.payload.percent : context.progressPercent),
    }),
    recordMonitoring: assign({
      monitoring: ({ context, event }) =>
        event.type === 'record-monitoring' ? [...context.monitoring, { finding: event.payload.finding, at: event.at }] : context.monitoring,
    }),
  },
}).createMachine({
  id: applicationMachineId,
  initial: 'draft',
  context: ({ input }) => ({
    programmeId: input.programmeId,
    municipalityId: input.municipalityId,
    form: input.form,
    remarks: [],
    reason: null,
    firstSubmittedAt: null,
    submissions: 0,
    scores: {},
    awardedKopecks: null,
    agreementNo: null,
    contract: null,
    progressPercent: 0,
    monitoring: [],
    assigneeId: null,
  }),
  states: {
    draft: {
      on: {
        update: { guard: 'allowed', actions: 'applyUpdate' },
        'attach-document': { guard: 'allowed', actions: 'recordDocument' },
        submit: { guard: 'allowed', target: 'submitted', actions: 'recordSubmission' },
        withdraw: { guard: 'allowed', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    submitted: {
      on: {
        'start-review': { guard: 'allowed', target: 'under-review', actions: 'recordAssignment' },
        assign: { guard: 'allowed', actions: 'recordAssignment' },
        take: { guard: 'allowed', actions: 'recordAssignment' },
        release: { guard: 'allowed', actions: 'recordAssignment' },
        withdraw: { guard: 'allowed', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    'under-review': {
      on: {
        'review-document': { guard: 'allowed', actions: 'recordVerdict' },
        assign: { guard: 'allowed', actions: 'recordAssignment' },
        take: { guard: 'allowed', actions: 'recordAssignment' },
        release: { guard: 'allowed', actions: 'recordAssignment' },
        'return-for-revision': { guard: 'allowed', target: 'returned', actions: 'recordRemarks' },
        accept: { guard: 'allowed', target: 'accepted' },
        reject: { guard: 'allowed', target: 'rejected', actions: 'recordReason' },
        withdraw: { guard: 'allowed', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    returned: {
      on: {
        update: { guard: 'allowed', actions: 'applyUpdate' },
        'attach-document': { guard: 'allowed', actions: 'recordDocument' },
        submit: { guard: 'allowed', target: 'submitted', actions: 'recordSubmission' },
        withdraw: { guard: 'allowed', target: 'withdrawn', actions: 'recordReason' },
        assign: { guard: 'allowed', actions: 'recordAssignment' },
        take: { guard: 'allowed', actions: 'recordAssignment' },
        release: { guard: 'allowed', actions: 'recordAssignment' },
      },
    },
    accepted: {
      on: {
        score: { guard: 'allowed', actions: 'recordScore' },
        award: { guard: 'allowed', target: 'awarded', actions: 'recordAward' },
        'not-award': { guard: 'allowed', target: 'not-awarded' },
      },
    },
    rejected: { type: 'final' },
    withdrawn: { type: 'final' },
    'not-awarded': { type: 'final' },
    awarded: {
      on: {
        'start-implementation': { guard: 'allowed', target: 'implementation' },
      },
    },
    implementation: {
      initial: 'agreement',
      on: {
        terminate: { guard: 'allowed', target: 'terminated', actions: 'recordReason' },
      },
      states: {
        agreement: {
          on: { 'sign-agreement': { guard: 'allowed', target: 'co-financing', actions: 'recordAgreement' } },
        },
        'co-financing': {
          on: { 'confirm-contributions': { guard: 'allowed', target: 'procurement' } },
        },
        procurement: {
          on: { 'sign-contract': { guard: 'allowed', target: 'works', actions: 'recordContract' } },
        },
        works: {
          on: {
            'report-progress': { guard: 'allowed', actions: 'recordProgress' },
            'record-monitoring': { guard: 'allowed', actions: 'recordMonitoring' },
            'complete-works': { guard: 'allowed', target: 'completed', actions: assign({ progressPercent: 100 }) },
          },
        },
        completed: {
          on: {
            'record-monitoring': { guard: 'allowed', actions: 'recordMonitoring' },
            close: { guard: 'allowed', target: '#application.closed' },
          },
        },
      },
    },
    closed: { type: 'final' },
    terminated: { type: 'final' },
  },
});

/** The state value as one dotted path: `implementation.works`. */
export type ApplicationStateV2 =
  | 'draft'
  | 'submitted'
  | 'under-review'
  | 'returned'
  | 'accepted'
  | 'rejected'
  | 'withdrawn'
  | 'awarded'
  | 'not-awarded'
  | 'implementation.agreement'
  | 'implementation.co-financing'
  | 'implementation.procurement'
  | 'implementation.works'
  | 'implementation.completed'
  | 'closed'
  | 'terminated';

export const applicationStatesV2: readonly ApplicationStateV2[] = [
  'draft',
  'submitted',
  'under-review',
  'returned',
  'accepted',
  'rejected',
  'withdrawn',
  'awarded',
  'not-awarded',
  'implementation.agreement',
  'implementation.co-financing',
  'implementation.procurement',
  'implementation.works',
  'implementation.completed',
  'closed',
  'terminated',
];

/** The states an application never leaves (the statechart's final states): its time in them does not run on. */
export const finalApplicationStatesV2: ReadonlySet<string> = new Set(
  applicationStatesV2.filter((state) => {
    const node = applicationMachineV2.getStateNodeById(`${applicationMachineId}.${state}`);
    return node.type === 'final';
  }),
);

/** The states of the review queue: waiting for a reviewer, or back with the applicant for revision. */
export const reviewQueueStatesV2: readonly ApplicationStateV2[] = ['submitted', 'under-review', 'returned'];
