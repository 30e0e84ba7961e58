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
import {
  agreementProblems,
  closeProblems,
  completeWorksProblems,
  contributionsShort,
  emptyImplementation,
  implementationEventSchemas,
  mayHandleSource,
  sourceKey,
  spendingProblems,
  sumAmounts,
  type Contribution,
  type Implementation,
  type SavingsRule,
} from '../src/domain/implementation.ts';
import { stagesOwning } from './stages.ts';

/**
 * The competition application (DESIGN §3). Pure: every fact a guard reads — who sends the event,
 * when, the programme's rules — arrives in the event and is stored with it, so replay is exact.
 */
export const applicationMachineId = 'application';
/**
 * Version 3 (issue 11): what happens after the award is recorded — the agreement's amounts, the
 * co-financing ledger, the contract and its savings, milestones, evidence, monitoring visits and
 * the spending report. Versions 1 and 2 (machines/application-v1.ts, -v2.ts) stay registered for
 * the streams written with them; a stream moves over at its next event (machines/registry.ts).
 */
export const applicationMachineVersion = 3;

/** The payload each event takes from its sender; the engine validates it before the machine sees it. */
export const applicationEventSchemas = {
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
  'sign-agreement': implementationEventSchemas['sign-agreement'],
  'record-contribution': implementationEventSchemas['record-contribution'],
  'cancel-contribution': implementationEventSchemas['cancel-contribution'],
  'confirm-contributions': z.strictObject({}),
  'sign-contract': implementationEventSchemas['sign-contract'],
  'record-milestone': implementationEventSchemas['record-milestone'],
  'report-progress': implementationEventSchemas['report-progress'],
  'attach-evidence': implementationEventSchemas['attach-evidence'],
  'complete-works': z.strictObject({}),
  'record-monitoring': implementationEventSchemas['record-monitoring'],
  'resolve-issue': implementationEventSchemas['resolve-issue'],
  'report-spending': implementationEventSchemas['report-spending'],
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

export type ApplicationEventType = keyof typeof applicationEventSchemas;
export const applicationEventTypes = Object.keys(applicationEventSchemas) as ApplicationEventType[];

/** The roles that may send each event. Applicants act only on their own municipality's applications. */
export const applicationEventRoles: Record<ApplicationEventType, readonly Role[]> = {
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
  // The municipality records the money it and its residents and businesses paid; the coordinator also the subsidy.
  'record-contribution': ['applicant', 'coordinator'],
  'cancel-contribution': ['applicant', 'coordinator'],
  'confirm-contributions': ['coordinator'],
  // The municipality is the customer of the works: it signs the contract and reports how they go.
  'sign-contract': ['applicant', 'coordinator'],
  'record-milestone': ['applicant', 'coordinator'],
  'report-progress': ['applicant', 'coordinator'],
  'attach-evidence': ['applicant', 'coordinator'],
  'complete-works': ['coordinator'],
  'record-monitoring': ['coordinator'],
  'resolve-issue': ['coordinator'],
  'report-spending': ['applicant', 'coordinator'],
  close: ['coordinator'],
  terminate: ['coordinator'],
  'attach-document': ['applicant'],
  'review-document': ['reviewer'],
  assign: ['coordinator'],
  take: ['reviewer'],
  release: ['reviewer', 'coordinator'],
};

/** The event that opens a stream; who may create an application. */
export const applicationCreateRoles: readonly Role[] = ['applicant'];

export interface EventFacts {
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
  /** The events after the award that later events name (a contribution, a visit, a milestone): the event's own place in the stream. */
  seq?: number;
  /** `sign-contract`: what the programme does with the co-financiers' share of the savings (issue 11). */
  savingsRule?: SavingsRule;
}

type Payloads = { [K in ApplicationEventType]: z.output<(typeof applicationEventSchemas)[K]> };

export type ApplicationEvent = {
  [K in ApplicationEventType]: { type: K; payload: Payloads[K]; facts: EventFacts; actor: Actor; at: string };
}[ApplicationEventType];

export interface ApplicationInput {
  programmeId: number;
  municipalityId: number;
  form: ApplicationForm;
  actor: Actor;
  at: string;
}

export interface MemberScore {
  significance: number;
  comment?: string;
  at: string;
}

/** The application's context; what happens after the award (issue 11) is src/domain/implementation.ts's `Implementation`. */
export interface ApplicationContext extends Implementation {
  programmeId: number;
  municipalityId: number;
  form: ApplicationForm;
  /** The remarks of the latest return for revision; cleared by the next submission. */
  remarks: Remark[];
  reason: string | null;
  firstSubmittedAt: string | null;
  submissions: number;
  scores: Record<string, MemberScore>;
  /** When the works were completed: photos after it are the monitoring's. */
  worksCompletedAt: string | null;
  /** The documents by kind; absent until the first document or verdict (so older snapshots stay as they were). */
  documents?: DocumentSet;
  /** The reviewer the application is assigned to (issue 16); version 1 snapshots migrate with none. */
  assigneeId: number | null;
}

/** An event as the rules see it: the payload is absent when a page only asks what it may offer. */
type RuleEvent = { [K in ApplicationEventType]: Omit<Extract<ApplicationEvent, { type: K }>, 'payload'> & { payload: Payloads[K] | undefined } }[ApplicationEventType];

/** Who and when: the role, the municipality, a stage owning the event being active. Blocking problems. */
function accessProblems(context: Pick<ApplicationContext, 'municipalityId'>, event: Pick<RuleEvent, 'type' | 'facts' | 'actor'>): Problem[] {
  const problems: Problem[] = [];
  if (!applicationEventRoles[event.type].includes(event.actor.role)) problems.push({ code: 'role', params: { role: event.actor.role } });
  if (event.actor.role === 'applicant' && event.actor.municipalityId !== context.municipalityId) problems.push({ code: 'not-own-municipality' });
  problems.push(...stageClosed(event.type, event.facts.activeStages ?? []));
  return problems;
}

/** An event no active stage owns is refused, naming the stages that would have to be active (DESIGN §2). */
export function stageClosed(type: string, activeStages: readonly string[]): Problem[] {
  const owners = stagesOwning(type);
  if (owners.length === 0 || owners.some((stage) => activeStages.includes(stage.key))) return [];
  return [{ code: 'stage.closed', params: { event: type, stages: owners.map((stage) => stage.key).join(',') } }];
}

/** The events by which a reviewer reviews an application: refused to a reviewer in a conflict of interest, or when another reviewer has it. */
export const reviewingEventTypes: readonly ApplicationEventType[] = ['start-review', 'review-document', 'return-for-revision', 'accept', 'reject', 'take'];

/**
 * Assignment (issue 16): a reviewer may not review, take or be given an application of a
 * municipality they declared a conflict of interest with; one the coordinator gave to another
 * reviewer is that reviewer's until it is released or given on.
 */
function assignmentProblems(context: ApplicationContext, event: RuleEvent): Problem[] {
  const assigneeId = context.assigneeId ?? null;
  const conflicted = event.facts.conflictedReviewers ?? [];
  const problems: Problem[] = [];
  if (event.actor.role === 'reviewer' && reviewingEventTypes.includes(event.type)) {
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

/** A date of the event's payload may not lie ahead of the event (a day's grace for the time zones of Russia). */
function notAhead(field: string, day: string | undefined, at: string): Problem[] {
  if (day === undefined) return [];
  const tomorrow = new Date(Date.parse(at) + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
  return day > tomorrow ? [{ field, code: 'date-ahead' }] : [];
}

/** What each event asks of the application itself: the form, the documents, the remarks, the amount. */
const contentRules: { [K in ApplicationEventType]?: (context: ApplicationContext, event: Extract<RuleEvent, { type: K }>) => Problem[] } = {
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
  // After the award (issue 11): src/domain/implementation.ts holds the rules the pages and the API share.
  'sign-agreement': (context, event) => {
    if (event.payload === undefined) return [];
    return [...agreementProblems(context.awardedKopecks, event.payload.amounts, event.facts.rules), ...notAhead('signedOn', event.payload.signedOn, event.at)];
  },
  'record-contribution': (_context, event) => {
    if (event.payload === undefined) return [];
    const problems = notAhead('receivedOn', event.payload.receivedOn, event.at);
    // The subsidy is the programme's money: only its coordinator records its transfer.
    if (!mayHandleSource(event.actor.role, event.payload.source)) problems.push({ field: 'source', code: 'subsidy-by-coordinator' });
    return problems;
  },
  'cancel-contribution': (context, event) => {
    if (event.payload === undefined) return context.contributions.some((c) => !c.cancelled) ? [] : [{ code: 'contribution-none' }];
    const entry = context.contributions.find((c) => c.seq === event.payload!.seq);
    if (!entry || entry.cancelled) return [{ field: 'seq', code: 'contribution-unknown', params: { seq: event.payload.seq } }];
    return mayHandleSource(event.actor.role, entry.source) ? [] : [{ field: 'seq', code: 'subsidy-by-coordinator' }];
  },
  'confirm-contributions': (context) => contributionsShort(context),
  'sign-contract': (context, event) => {
    const amounts = context.agreement?.amounts;
    if (!amounts) return [{ code: 'agreement-amounts-unknown' }];
    if (event.payload === undefined) return [];
    const agreed = sumAmounts(amounts);
    return [
      ...(event.payload.priceKopecks > agreed ? [{ field: 'priceKopecks', code: 'price-above-agreement', params: { max: agreed } }] : []),
      ...notAhead('signedOn', event.payload.signedOn, event.at),
    ];
  },
  'record-milestone': (_context, event) => notAhead('on', event.payload?.on, event.at),
  'report-progress': (context, event) =>
    event.payload !== undefined && event.payload.percent < context.progressPercent ? [{ field: 'percent', code: 'progress-backwards', params: { current: context.progressPercent } }] : [],
  // The act and the photos are of works under contract; the agreement's scan may come at any time after the award.
  'attach-evidence': (context, event) => (event.payload !== undefined && event.payload.kind !== 'agreement-scan' && !context.contract ? [{ field: 'kind', code: 'evidence-before-contract' }] : []),
  'complete-works': (context) => completeWorksProblems(context),
  'record-monitoring': (_context, event) => notAhead('visitedOn', event.payload?.visitedOn, event.at),
  'resolve-issue': (context, event) => {
    const open = context.visits.filter((v) => v.verdict === 'issues' && !v.resolution);
    if (event.payload === undefined) return open.length > 0 ? [] : [{ code: 'monitoring-issue-none' }];
    return open.some((v) => v.seq === event.payload!.seq) ? [] : [{ field: 'seq', code: 'monitoring-issue-unknown', params: { seq: event.payload.seq } }];
  },
  'report-spending': (context, event) => (event.payload === undefined ? [] : spendingProblems(context, event.payload.actual)),
  close: (context) => closeProblems(context),
};

/**
 * Why the application refuses an event now (DESIGN §3): every rule of its workflow, as problems
 * with codes and parameters. The statechart's one guard is this list being empty; the engine
 * throws it when an event is refused, and the pages and the API's `allowedEvents` ask it too.
 */
export function whyNotApplication(context: ApplicationContext, event: RuleEvent): Problem[] {
  const rule = contentRules[event.type] as ((context: ApplicationContext, event: RuleEvent) => Problem[]) | undefined;
  return [...accessProblems(context, event), ...assignmentProblems(context, event), ...(rule ? rule(context, event) : [])];
}

/** Why an application cannot be opened now: `create` is owned by stages too. */
export function whyNotCreateApplication(_input: unknown, facts: { activeStages?: string[] }): Problem[] {
  return stageClosed('create', facts.activeStages ?? []);
}

/**
 * Events sent by one path only, refused on any other with the reason: a document is attached by
 * uploading its file (which stores it under its SHA-256 first), and awards are given only by the
 * commission's decision for the whole ranking.
 */
export const applicationEventChannels = {
  'attach-document': { channel: 'upload', reason: 'documents.refused.uploadOnly' },
  'attach-evidence': { channel: 'upload', reason: 'documents.refused.uploadOnly' },
  award: { channel: 'decision', reason: 'commission.refused.decisionOnly' },
  'not-award': { channel: 'decision', reason: 'commission.refused.decisionOnly' },
} as const satisfies Partial<Record<ApplicationEventType, { channel: string; reason: string }>>;

/** The events about documents: the application page offers them on its documents card, apart from the other events. */
export const documentEventTypes: readonly ApplicationEventType[] = ['attach-document', 'review-document'];

/** Who has the application (issue 16): offered beside its assignee, apart from the decisions. */
export const assignmentEventTypes: readonly ApplicationEventType[] = ['assign', 'take', 'release'];

export const applicationMachine = setup({
  types: {
    context: {} as ApplicationContext,
    events: {} as ApplicationEvent,
    input: {} as ApplicationInput,
  },
  guards: {
    /** The one guard: no rule of `whyNotApplication` refuses the event. */
    allowed: ({ context, event }) => whyNotApplication(context, event).length === 0,
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
      agreement: ({ context, event }) =>
        event.type === 'sign-agreement' ? { agreementNo: event.payload.agreementNo, signedOn: event.payload.signedOn, amounts: event.payload.amounts, at: event.at } : context.agreement,
    }),
    recordContribution: assign({
      contributions: ({ context, event }) => {
        if (event.type === 'record-contribution') {
          const { source, amountKopecks, receivedOn, payer, reference } = event.payload;
          const entry: Contribution = {
            seq: event.facts.seq ?? context.contributions.length + 1,
            source: sourceKey(source),
            amountKopecks,
            receivedOn,
            payer: payer || null,
            reference: reference || null,
            at: event.at,
            by: event.actor.role,
            cancelled: null,
          };
          return [...context.contributions, entry];
        }
        if (event.type === 'cancel-contribution') {
          const cancelled = { seq: event.facts.seq ?? 0, reason: event.payload.reason, at: event.at };
          return context.contributions.map((c) => (c.seq === event.payload.seq ? { ...c, cancelled } : c));
        }
        return context.contributions;
      },
    }),
    recordContract: assign({
      contract: ({ context, event }) => {
        if (event.type !== 'sign-contract') return context.contract;
        const { contractNo, signedOn, contractor, contractorInn, priceKopecks, noticeNo } = event.payload;
        return { contractNo, signedOn, contractor, contractorInn, priceKopecks, noticeNo: noticeNo || null, savingsRule: event.facts.savingsRule ?? null, at: event.at };
      },
    }),
    recordMilestone: assign({
      milestones: ({ context, event }) =>
        event.type === 'record-milestone'
          ? [...context.milestones, { seq: event.facts.seq ?? 0, kind: event.payload.kind, on: event.payload.on, note: event.payload.note || null, at: event.at }]
          : context.milestones,
    }),
    recordProgress: assign({
      progressPercent: ({ context, event }) => (event.type === 'report-progress' ? event.payload.percent : context.progressPercent),
      progress: ({ context, event }) =>
        event.type === 'report-progress' ? [...context.progress, { seq: event.facts.seq ?? 0, percent: event.payload.percent, note: event.payload.note || null, at: event.at }] : context.progress,
    }),
    recordEvidence: assign({
      evidence: ({ context, event }) => {
        if (event.type !== 'attach-evidence') return context.evidence;
        const { kind, caption, name, size, mediaType, sha256 } = event.payload;
        return [...context.evidence, { seq: event.facts.seq ?? 0, kind, caption: caption || null, name, size, mediaType, sha256, at: event.at, state: context.worksCompletedAt ? 'monitoring' : 'works' }];
      },
    }),
    recordCompletion: assign({ progressPercent: 100, worksCompletedAt: ({ event }) => event.at }),
    recordVisit: assign({
      visits: ({ context, event }) => {
        if (event.type === 'record-monitoring') {
          const { visitedOn, inspector, verdict, finding } = event.payload;
          return [...context.visits, { seq: event.facts.seq ?? 0, visitedOn, inspector, verdict, finding, at: event.at, resolution: null }];
        }
        if (event.type === 'resolve-issue') {
          const resolution = { seq: event.facts.seq ?? 0, note: event.payload.note, at: event.at };
          return context.visits.map((v) => (v.seq === event.payload.seq ? { ...v, resolution } : v));
        }
        return context.visits;
      },
    }),
    recordSpending: assign({
      spending: ({ context, event }) => (event.type === 'report-spending' ? { seq: event.facts.seq ?? 0, actual: event.payload.actual, at: event.at } : context.spending),
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
    ...emptyImplementation(),
    progressPercent: 0,
    worksCompletedAt: null,
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
        // The agreement's scan may be attached at any point after the award; the act and the photos once there is a contract.
        'attach-evidence': { guard: 'allowed', actions: 'recordEvidence' },
      },
      states: {
        agreement: {
          on: { 'sign-agreement': { guard: 'allowed', target: 'co-financing', actions: 'recordAgreement' } },
        },
        'co-financing': {
          on: {
            'record-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'cancel-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'confirm-contributions': { guard: 'allowed', target: 'procurement' },
          },
        },
        procurement: {
          on: {
            'record-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'cancel-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'sign-contract': { guard: 'allowed', target: 'works', actions: 'recordContract' },
          },
        },
        works: {
          on: {
            'record-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'cancel-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'record-milestone': { guard: 'allowed', actions: 'recordMilestone' },
            'report-progress': { guard: 'allowed', actions: 'recordProgress' },
            'record-monitoring': { guard: 'allowed', actions: 'recordVisit' },
            'resolve-issue': { guard: 'allowed', actions: 'recordVisit' },
            'complete-works': { guard: 'allowed', target: 'completed', actions: 'recordCompletion' },
          },
        },
        completed: {
          on: {
            'record-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'cancel-contribution': { guard: 'allowed', actions: 'recordContribution' },
            'record-milestone': { guard: 'allowed', actions: 'recordMilestone' },
            'record-monitoring': { guard: 'allowed', actions: 'recordVisit' },
            'resolve-issue': { guard: 'allowed', actions: 'recordVisit' },
            'report-spending': { guard: 'allowed', actions: 'recordSpending' },
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
export type ApplicationState =
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

export const applicationStates: readonly ApplicationState[] = [
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
export const finalApplicationStates: ReadonlySet<string> = new Set(
  applicationStates.filter((state) => {
    const node = applicationMachine.getStateNodeById(`${applicationMachineId}.${state}`);
    return node.type === 'final';
  }),
);

/** The states of the review queue: waiting for a reviewer, or back with the applicant for revision. */
export const reviewQueueStates: readonly ApplicationState[] = ['submitted', 'under-review', 'returned'];

/** While the application is back for revision, its remarks stand beside the fields they are about. */
export const remarksStandOpen = (state: string): boolean => state === 'returned';

/**
 * Document remarks stay visible while the application waits for its revision or its review; the
 * reviewer (whoever may send `review-document`) always sees them.
 */
export const documentRemarksShown = (state: string, mayReview: boolean): boolean => mayReview || state === 'returned' || state === 'under-review';

/** The states whose page shows the implementation card: from the award on, and a project terminated after it. */
export const showsImplementation = (state: string, context: { awardedKopecks?: number | null }): boolean =>
  state === 'awarded' || state.startsWith('implementation.') || state === 'closed' || (state === 'terminated' && (context.awardedKopecks ?? null) !== null);

/** While the application is in implementation, its progress is shown. */
export const inImplementation = (state: string): boolean => state.startsWith('implementation.');
