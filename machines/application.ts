import { and, assign, setup } from 'xstate';
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
import type { Actor, Role } from '../src/domain/roles.ts';
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
import { stagesOwning } from './stages.ts';

/**
 * The competition application (DESIGN §3). Pure: every fact a guard reads — who sends the event,
 * when, the programme's rules — arrives in the event and is stored with it, so replay is exact.
 */
export const applicationMachineId = 'application';
export const applicationMachineVersion = 1;

/** The payload each event takes from its sender; the engine validates it before the machine sees it. */
export const applicationEventSchemas = {
  update: formPatchSchema.refine((patch) => Object.keys(patch).length > 0, 'an update must change at least one field'),
  submit: z.strictObject({}),
  'start-review': z.strictObject({}),
  // Remarks may be left out when the reviewer's document remarks say it all (guard `hasRemarks`).
  'return-for-revision': z.strictObject({ remarks: remarksSchema.optional() }),
  accept: z.strictObject({ comment: z.string().trim().max(2000).optional() }),
  reject: z.strictObject({ reason: reasonSchema }),
  withdraw: z.strictObject({ reason: reasonSchema }),
  score: z.strictObject({
    significance: z.number().min(0).max(5),
    comment: z.string().trim().max(2000).optional(),
  }),
  award: z.strictObject({ amountKopecks: z.number().int().min(1).max(10_000_000_000_000) }),
  'not-award': z.strictObject({ comment: z.string().trim().max(2000).optional() }),
  'start-implementation': z.strictObject({}),
  'sign-agreement': z.strictObject({ agreementNo: z.string().trim().min(1).max(100) }),
  'confirm-contributions': z.strictObject({}),
  'sign-contract': z.strictObject({
    contractor: z.string().trim().min(1).max(300),
    priceKopecks: z.number().int().min(1).max(10_000_000_000_000),
  }),
  'report-progress': z.strictObject({ percent: z.number().int().min(0).max(100), note: z.string().trim().max(2000).optional() }),
  'complete-works': z.strictObject({}),
  'record-monitoring': z.strictObject({ finding: z.string().trim().min(1).max(2000) }),
  close: z.strictObject({}),
  terminate: z.strictObject({ reason: reasonSchema }),
  /** Written only by the upload, after the file is stored under its SHA-256 (src/engine/documents.ts). */
  'attach-document': attachDocumentSchema,
  'review-document': reviewDocumentSchema,
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
  'confirm-contributions': ['coordinator'],
  'sign-contract': ['coordinator'],
  'report-progress': ['applicant', 'coordinator'],
  'complete-works': ['coordinator'],
  'record-monitoring': ['coordinator'],
  close: ['coordinator'],
  terminate: ['coordinator'],
  'attach-document': ['applicant'],
  'review-document': ['reviewer'],
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

export interface ApplicationContext {
  programmeId: number;
  municipalityId: number;
  form: ApplicationForm;
  /** The remarks of the latest return for revision; cleared by the next submission. */
  remarks: Remark[];
  reason: string | null;
  firstSubmittedAt: string | null;
  submissions: number;
  scores: Record<string, MemberScore>;
  awardedKopecks: number | null;
  agreementNo: string | null;
  contract: { contractor: string; priceKopecks: number } | null;
  progressPercent: number;
  monitoring: { finding: string; at: string }[];
  /** The documents by kind; absent until the first document or verdict (so older snapshots stay as they were). */
  documents?: DocumentSet;
}

const roleMay = (event: ApplicationEvent) => applicationEventRoles[event.type].includes(event.actor.role);

/** An event that stages own is taken only while one of its stages is active; withdraw and terminate belong to none. */
const stageOpen = (event: ApplicationEvent) => {
  const owners = stagesOwning(event.type);
  return owners.length === 0 || owners.some((stage) => event.facts.activeStages?.includes(stage.key) ?? false);
};

export const applicationMachine = setup({
  types: {
    context: {} as ApplicationContext,
    events: {} as ApplicationEvent,
    input: {} as ApplicationInput,
  },
  guards: {
    mayAct: ({ context, event }) =>
      roleMay(event) && stageOpen(event) && (event.actor.role !== 'applicant' || event.actor.municipalityId === context.municipalityId),
    formComplete: ({ context, event }) =>
      event.type === 'submit' && event.facts.rules !== undefined && submitProblems(context.form, event.facts.rules).length === 0,
    documentsAttached: ({ context, event }) =>
      event.type === 'submit' && missingDocuments(context.documents, event.facts.requiredDocuments ?? []).length === 0,
    documentsAccepted: ({ context, event }) =>
      event.type === 'accept' && unacceptedDocuments(context.documents, event.facts.requiredDocuments ?? []).length === 0,
    documentFits: ({ event }) =>
      event.type === 'attach-document' && fitsRule(event.facts.documentRules?.find((rule) => rule.kind === event.payload.kind), event.payload),
    /** A missing document may get a remark, never an acceptance. */
    documentReviewable: ({ context, event }) =>
      event.type === 'review-document' && (event.payload.verdict === 'remark' || Boolean(context.documents?.[event.payload.kind]?.file)),
    hasRemarks: ({ context, event }) =>
      event.type === 'return-for-revision' && ((event.payload.remarks?.length ?? 0) > 0 || documentRemarks(context.documents).length > 0),
    awardWithinRequest: ({ context, event }) =>
      event.type === 'award' && event.payload.amountKopecks <= (context.form.costs?.subsidy ?? 0),
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
  }),
  states: {
    draft: {
      on: {
        update: { guard: 'mayAct', actions: 'applyUpdate' },
        'attach-document': { guard: and(['mayAct', 'documentFits']), actions: 'recordDocument' },
        submit: { guard: and(['mayAct', 'formComplete', 'documentsAttached']), target: 'submitted', actions: 'recordSubmission' },
        withdraw: { guard: 'mayAct', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    submitted: {
      on: {
        'start-review': { guard: 'mayAct', target: 'under-review' },
        withdraw: { guard: 'mayAct', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    'under-review': {
      on: {
        'review-document': { guard: and(['mayAct', 'documentReviewable']), actions: 'recordVerdict' },
        'return-for-revision': { guard: and(['mayAct', 'hasRemarks']), target: 'returned', actions: 'recordRemarks' },
        accept: { guard: and(['mayAct', 'documentsAccepted']), target: 'accepted' },
        reject: { guard: 'mayAct', target: 'rejected', actions: 'recordReason' },
        withdraw: { guard: 'mayAct', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    returned: {
      on: {
        update: { guard: 'mayAct', actions: 'applyUpdate' },
        'attach-document': { guard: and(['mayAct', 'documentFits']), actions: 'recordDocument' },
        submit: { guard: and(['mayAct', 'formComplete', 'documentsAttached']), target: 'submitted', actions: 'recordSubmission' },
        withdraw: { guard: 'mayAct', target: 'withdrawn', actions: 'recordReason' },
      },
    },
    accepted: {
      on: {
        score: { guard: 'mayAct', actions: 'recordScore' },
        award: { guard: and(['mayAct', 'awardWithinRequest']), target: 'awarded', actions: 'recordAward' },
        'not-award': { guard: 'mayAct', target: 'not-awarded' },
      },
    },
    rejected: { type: 'final' },
    withdrawn: { type: 'final' },
    'not-awarded': { type: 'final' },
    awarded: {
      on: {
        'start-implementation': { guard: 'mayAct', target: 'implementation' },
      },
    },
    implementation: {
      initial: 'agreement',
      on: {
        terminate: { guard: 'mayAct', target: 'terminated', actions: 'recordReason' },
      },
      states: {
        agreement: {
          on: { 'sign-agreement': { guard: 'mayAct', target: 'co-financing', actions: 'recordAgreement' } },
        },
        'co-financing': {
          on: { 'confirm-contributions': { guard: 'mayAct', target: 'procurement' } },
        },
        procurement: {
          on: { 'sign-contract': { guard: 'mayAct', target: 'works', actions: 'recordContract' } },
        },
        works: {
          on: {
            'report-progress': { guard: 'mayAct', actions: 'recordProgress' },
            'record-monitoring': { guard: 'mayAct', actions: 'recordMonitoring' },
            'complete-works': { guard: 'mayAct', target: 'completed', actions: assign({ progressPercent: 100 }) },
          },
        },
        completed: {
          on: {
            'record-monitoring': { guard: 'mayAct', actions: 'recordMonitoring' },
            close: { guard: 'mayAct', target: '#application.closed' },
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
