import { z, type ZodType } from 'zod';
import { formPatchSchema, projectTypes, remarkSchema } from '../domain/application.ts';
import { commissionSettingsSchema } from '../domain/criteria.ts';
import { documentRequirementSchema, requirementProjectTypes } from '../domain/document-requirements.ts';
import { attachDocumentSchema, documentKinds, fileTypeKeys, mediaTypes, reviewDocumentSchema } from '../domain/documents.ts';
import { roles } from '../domain/roles.ts';
import { programmeSchema } from '../workflows/programme/create.ts';
import { applicationMachineId, applicationStates } from '../../machines/application.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { stageMachineId } from '../../machines/stage.ts';

/**
 * The JSON API's schemas (issue 10): what each route takes, validated at the edge by the zod type
 * provider (src/http/openapi.ts), and what it answers, documented in /api/openapi.json. Inputs reuse
 * the domain's and the machines' schemas — one schema per input; the engine checks them again on
 * its one write path, for the pages and the CLI. Ids (`.meta({ id })`) name the components of the
 * document.
 */

// ——— Path parameters: anything that does not name a resource is simply not found (404). ———

/** A numeric id from the path; the pages take theirs through `idParam` by this schema too. */
export const pathId = z
  .string()
  .regex(/^[1-9]\d{0,14}$/)
  .transform(Number)
  .meta({ description: 'a positive whole number' });

export const idParams = z.object({ id: pathId });
export const stageParams = z.object({ id: pathId, no: pathId.meta({ description: 'the stage number, 1–12' }) });
export const documentFileParams = z.object({ id: pathId, sha256: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'the SHA-256 of the file, lower-case hex' }) });
export const documentKindParams = z.object({ id: pathId, kind: z.enum(documentKinds) });
export const documentRequirementParams = z.object({ id: pathId, projectType: z.enum(requirementProjectTypes), kind: z.enum(documentKinds) });

// ——— Query strings ———

export const replayQuery = z.object({
  seq: z
    .string()
    .regex(/^[1-9]\d{0,8}$/)
    .transform(Number)
    .optional()
    .meta({ description: 'the event to replay up to; the last one when left out' }),
});

// ——— Events: the edge checks the envelope, the engine the payload of its type. ———

/** `expectedVersion` as the body carries it: a number, or its decimal text (a form's hidden field). */
export const expectedVersionSchema = z
  .union([z.int().min(1), z.string().regex(/^\d{1,9}$/)])
  .meta({ description: 'the version the client last saw; a stale one is refused with 409 (or send `If-Match: "N"`)' });

/**
 * What the edge checks of an event before the engine sees it. The payload is checked by the engine
 * against its type's schema after the application is found (404), the role allowed (403) and the
 * version current (409): checking it here first would turn those answers into a 422 and tell a
 * stranger that a field was wrong on an application it may not see.
 */
export const eventEnvelope = z.looseObject({
  type: z.string().min(1).max(64),
  expectedVersion: expectedVersionSchema.optional(),
});

type Member = Parameters<typeof z.discriminatedUnion>[1][number];

/** A payload schema with the envelope's fields added: one member of an event union. */
function withEnvelope(type: string, payload: ZodType): Member {
  const envelope = { type: z.literal(type), expectedVersion: expectedVersionSchema.optional() };
  if (payload instanceof z.ZodObject) return payload.safeExtend(envelope).meta({ title: type });
  if (payload instanceof z.ZodDiscriminatedUnion) {
    const options = (payload.options as ZodType[]).map((option) => withEnvelope(type, option));
    return z.discriminatedUnion(payload.def.discriminator, options as [Member, ...Member[]]).meta({ title: type });
  }
  throw new Error(`the payload of ${type} is neither an object nor a discriminated union of objects`);
}

/** The body of each event type, as the document shows it: one member per type of the machine's event schemas. */
function eventUnion(schemas: Record<string, ZodType>, id: string, description: string, leaveOut: readonly string[] = []) {
  const members = Object.entries(schemas)
    .filter(([type]) => !leaveOut.includes(type))
    .map(([type, payload]) => withEnvelope(type, payload));
  return z.discriminatedUnion('type', members as [Member, ...Member[]]).meta({ id, description });
}

const registry = defaultRegistry();
const application = registry.latest(applicationMachineId);
const stage = registry.latest(stageMachineId);

/** The events the route takes: not those the machine reserves for one path (the upload, the commission's decision). */
export const applicationEventBody = eventUnion(
  application.eventSchemas,
  'ApplicationEvent',
  'An application event: `type`, `expectedVersion` and the payload of that type.',
  Object.keys(application.channels ?? {}),
);
export const stageEventBody = eventUnion(stage.eventSchemas, 'StageEvent', 'A stage event: `type`, `expectedVersion` and the payload of that type.', Object.keys(stage.channels ?? {}));

/** The reviewer's verdict on one document: the kind comes from the path. */
export const reviewDocumentBody = z
  .union((reviewDocumentSchema.options as readonly z.ZodObject[]).map((option) => option.omit({ kind: true }).safeExtend({ expectedVersion: expectedVersionSchema.optional() })))
  .meta({ id: 'DocumentVerdict' });

/** The upload, as a multipart form: the fields first, then the one file. */
export const uploadBody = z.object({
  kind: z.enum(documentKinds),
  expectedVersion: z.string().regex(/^\d{1,9}$/).optional().meta({ description: 'or `If-Match: "N"`' }),
  file: z.string().meta({ format: 'binary', contentMediaType: 'application/octet-stream', description: 'PDF, JPEG, PNG, XLSX or DOCX, as the programme allows for the kind' }),
});

// ——— Bodies that are not events ———

/** A new application: the programme, and the form as far as it is filled in (a draft may be incomplete). */
export const applicationCreateBody = formPatchSchema.safeExtend({ programmeId: z.int().min(1) }).meta({ id: 'NewApplication' });

export { programmeSchema as programmeBody, commissionSettingsSchema as commissionSettingsBody, documentRequirementSchema as documentRequirementBody };
export { decisionInputSchema as decisionBody } from '../workflows/commission/decision.ts';

// ——— Answers ———

const positive = z.int().min(1);
const count = z.int().min(0);
const timestamp = z.string().meta({ description: 'UTC, ISO 8601', format: 'date-time' });
const kopecks = z.int().meta({ description: 'money in kopecks' });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/** A text the database keeps as text, documented (and checked by the tests) with the values it takes. */
const textOf = (values: readonly string[]) => z.string().meta({ enum: [...values] });
const applicationState = textOf(applicationStates);

export const fieldProblemSchema = z
  .object({
    field: z.string().meta({ description: 'the field, as a path (`costs.subsidy`), or `general`' }),
    code: z.string(),
    params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .meta({ id: 'FieldProblem' });

/** Every refusal: `{error, message}` and what a client needs to act on it. */
export const errorSchema = z
  .object({
    error: z.string().meta({ description: '`validation`, `not-allowed`, `conflict`, `forbidden`, `not-found`, `unauthorized`, or fastify’s own code' }),
    message: z.string(),
    problems: z.array(fieldProblemSchema).optional().meta({ description: 'what is wrong, field by field (422)' }),
    current: z.object({ state: z.string(), version: positive }).optional().meta({ description: 'the fresh state and version (409)' }),
    reason: z.string().optional().meta({ description: 'a catalogue key that says why an event is not taken now (422)' }),
    // fastify's router answers a URL it cannot read before any route runs, in its own words.
    code: z.string().optional().meta({ description: 'fastify’s code, on its router’s refusals (400 for a URL it cannot decode, 414)' }),
    statusCode: z.int().optional().meta({ description: 'the status again, on the router’s refusals' }),
  })
  .meta({ id: 'Error' });

const errorMeanings = {
  400: 'malformed JSON, a body that would pollute a prototype, or a URL that does not decode',
  401: 'no valid bearer token',
  403: 'the role may not use this route or send this event',
  404: 'not there, or not visible to this user (another municipality’s application answers the same)',
  409: 'the expectedVersion is stale; `current` holds the fresh state and version',
  413: 'the body is larger than 256 KiB',
  414: 'a path parameter longer than the router takes',
  415: 'a content type the API does not read',
  422: 'bad input (`problems` names the fields), or an event the state does not take now',
  429: 'too many requests from this address',
  503: 'the database could not be read or written (a storage fault): nothing was saved; `Retry-After` says when to try again',
} as const;
type ErrorStatus = keyof typeof errorMeanings;

/** A JSON answer with what it means, for the document. */
export const json = <S extends ZodType>(description: string, schema: S) => ({ description, content: { 'application/json': { schema } } });

const errorResponse = (description: string) => json(description, errorSchema);

/**
 * The refusals a route may answer, each with the error body and what it means (a `[status, meaning]`
 * pair says it for this route); rate limiting and a storage fault may refuse any route.
 */
export function errors<S extends ErrorStatus>(...statuses: (S | readonly [S, string])[]): Record<S | 429 | 503, ReturnType<typeof errorResponse>> {
  const meanings = new Map<ErrorStatus, string>();
  for (const entry of [...statuses, 429 as const, 503 as const]) {
    const [status, meaning] = typeof entry === 'number' ? [entry, errorMeanings[entry]] : entry;
    if (!meanings.has(status)) meanings.set(status, meaning);
  }
  return Object.fromEntries([...meanings].map(([status, meaning]) => [status, errorResponse(meaning)])) as Record<S | 429 | 503, ReturnType<typeof errorResponse>>;
}

/** The refusals of a route that reads a JSON body. */
export const bodyErrors = [400, 413, 415, 422] as const;
/** The refusals of a route with parameters in its path: a value that names nothing, or one the router will not read. */
export const pathErrors = [400, 404, 414] as const;

export const userSchema = z
  .object({ id: positive, login: z.string(), name: z.string(), role: z.enum(roles), municipalityId: positive.nullable() })
  .meta({ id: 'User' });

/** The signed-in user as the session answer carries it: with the address notifications are e-mailed to (issue 12). */
export const sessionUserSchema = userSchema.extend({ email: z.string().nullable() }).meta({ id: 'SessionUser' });

export const sessionResponse = z.object({ token: z.string(), expiresAt: timestamp, user: sessionUserSchema }).meta({ id: 'Session' });

/** What an accepted event (or a new application) answers: the state and the version to send next. */
export const appliedResponse = z.object({ id: positive, state: applicationState, version: positive }).meta({ id: 'Applied' });

export const applicationListResponse = z.array(
  z
    .object({
      id: positive,
      title: z.string(),
      projectType: textOf(projectTypes).nullable(),
      settlement: z.string().nullable(),
      state: applicationState,
      version: positive,
      subsidyKopecks: kopecks,
      totalKopecks: kopecks,
      awardedKopecks: kopecks.nullable(),
      updatedAt: timestamp,
      firstSubmittedAt: timestamp.nullable(),
      registrationNo: z.string().nullable().meta({ description: 'the registration number given at the first submission, `<code>-<year>-<NNNN>`; none before it (or for applications submitted before numbers existed)' }),
      municipalityId: positive,
      municipalityName: z.string(),
      programmeId: positive,
      programmeTitle: z.string(),
      timeZone: z.string(),
    })
    .meta({ id: 'ApplicationListRow' }),
);

export const applicationResponse = z
  .object({
    id: positive,
    programmeId: positive,
    municipalityId: positive,
    state: applicationState,
    version: positive,
    data: formPatchSchema.meta({ description: 'the form as it stands (money in kopecks)' }),
    remarks: z.array(remarkSchema).meta({ description: 'the remarks of the latest return for revision' }),
    reason: z.string().nullable(),
    firstSubmittedAt: timestamp.nullable(),
    registrationNo: z.string().nullable().meta({ description: 'the registration number given at the first submission, `<code>-<year>-<NNNN>`' }),
    awardedKopecks: kopecks.nullable(),
    allowedEvents: z.array(z.string()).meta({ description: 'the events this user may send now' }),
  })
  .meta({ id: 'Application' });

export const historyResponse = z.array(
  z
    .object({
      seq: positive,
      position: positive,
      type: z.string(),
      payload: z.unknown(),
      facts: z.unknown().meta({ description: 'what the engine added to the event: who, when, which stages were active, …' }),
      actor: userSchema,
      at: timestamp,
      from: z.string().nullable(),
      to: z.string(),
      machineId: z.string(),
      machineVersion: positive,
      prevHash: sha256Hex,
      hash: sha256Hex,
    })
    .meta({ id: 'HistoryEvent' }),
);

export const ledgerProblemSchema = z
  .object({
    stream: z.string(),
    seq: positive.nullable(),
    kind: z.string().meta({ description: '`hash-mismatch`, `broken-chain`, `missing-event`, `out-of-order`, `snapshot-mismatch`, `document-altered`, `projection-mismatch`, `fact-mismatch`, …' }),
    message: z.string(),
    file: z.object({ name: z.string(), sha256: sha256Hex }).optional(),
    projection: z
      .object({
        table: z.string().meta({ description: '`applications`, `stages`, `streams`' }),
        key: z.string().meta({ description: 'the row: the application’s or the stage’s id, or the stream’s' }),
        column: z.string().meta({ description: 'the column, or `*` for a row that is missing' }),
        stored: z.union([z.string(), z.number(), z.null()]),
        derived: z.union([z.string(), z.number(), z.null()]).meta({ description: 'what the ledger gives' }),
      })
      .optional()
      .meta({ description: 'of a `projection-mismatch`: the projection row and column that are not what the ledger gives' }),
  })
  .meta({ id: 'LedgerProblem' });

export const replayResponse = z
  .object({
    id: positive,
    seq: positive,
    events: count,
    type: z.string(),
    at: timestamp,
    state: z.string().nullable().meta({ description: 'the state replay reached' }),
    storedState: z.string().meta({ description: 'the state the event stored' }),
    data: formPatchSchema.nullable(),
    context: z.unknown(),
    matches: z.boolean(),
    ok: z.boolean(),
    problems: z.array(ledgerProblemSchema),
  })
  .meta({ id: 'Replay' });

const exportedEvent = z.object({
  position: positive,
  streamId: z.string(),
  seq: positive,
  type: z.string(),
  payload: z.string().meta({ description: 'canonical JSON, hashed as it is' }),
  facts: z.string(),
  actor: z.string(),
  at: timestamp,
  fromState: z.string().nullable(),
  toState: z.string(),
  machineId: z.string(),
  machineVersion: positive,
  prevHash: sha256Hex,
  hash: sha256Hex,
});

export const historyExportResponse = z
  .object({
    format: z.literal('isu-ib.history/1'),
    exportedAt: timestamp,
    application: z.object({ id: positive, title: z.string(), municipality: z.string(), programme: z.string(), timeZone: z.string() }),
    stream: z.object({ id: z.string(), machineId: z.string(), machineVersion: positive, version: positive, state: z.string(), headHash: sha256Hex }),
    verification: z.object({
      algorithm: z.literal('sha256'),
      genesisHash: sha256Hex,
      rule: z.string(),
      canonicalJson: z.string(),
      hashedFields: z.array(z.string()),
      replay: z.object({ ok: z.boolean(), problems: z.array(ledgerProblemSchema) }),
    }),
    events: z.array(exportedEvent),
  })
  .meta({ id: 'HistoryExport' });

export const verifyResponse = z
  .object({
    ok: z.boolean(),
    streams: count,
    events: count,
    head: sha256Hex.meta({ description: 'the ledger head: publish it, and verify against it later' }),
    problems: z.array(ledgerProblemSchema),
    documents: count.meta({ description: 'how many stored files were checked against their events' }),
    full: z.boolean().meta({ description: 'whether every event was replayed (true), or only those after the checkpoints' }),
    replayed: count.meta({ description: 'how many events were replayed and hashed this time' }),
  })
  .meta({ id: 'LedgerReport' });

export const verifyJobParams = z.object({ job: z.string().regex(/^[0-9a-f]{16}$/).meta({ description: 'the job, as `POST /api/audit/verify` named it' }) });

export const verifyJobQuery = z.object({
  full: z.enum(['0', '1']).optional().meta({ description: '1: replay every event, whatever the checkpoints say' }),
  head: sha256Hex.optional().meta({ description: 'a head published earlier, to compare with the log' }),
});

export const verifyJobStarted = z.object({ job: z.string() }).meta({ id: 'VerifyJobStarted' });

const orNull = <S extends ZodType>(schema: S, description: string) => schema.nullable().meta({ description: `${description}; null until the job is done` });

export const verifyJobResponse = z
  .object({
    job: z.string(),
    state: textOf(['running', 'done', 'failed']),
    full: z.boolean(),
    checked: count.meta({ description: 'events checked so far (an event below its checkpoint counts as checked)' }),
    total: count.meta({ description: 'events in the log verified (0 until the job has read it)' }),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
    ok: orNull(z.boolean(), 'false when anything is wrong'),
    head: orNull(sha256Hex, 'the ledger head'),
    streams: orNull(count, 'streams verified'),
    events: orNull(count, 'events in the log'),
    documents: orNull(count, 'stored files checked'),
    replayed: orNull(count, 'events replayed and hashed'),
    problems: z.array(ledgerProblemSchema),
    error: z.string().nullable().meta({ description: 'why a failed job failed' }),
  })
  .meta({ id: 'VerifyJob' });

export const programmeResponse = programmeSchema
  .safeExtend({ id: positive, code: z.string().nullable().meta({ description: 'the prefix of its registration numbers (issue 13); none: the default code' }), savingsRule: z.enum(['keep', 'refund']).meta({ description: 'what the co-financiers’ share of a contract’s savings becomes (issue 11): kept in the project or refunded' }), createdAt: timestamp })
  .meta({ id: 'Programme' });

const localised = z.object({ ru: z.string(), en: z.string() });

export const stageSchema = z
  .object({
    no: positive,
    key: z.string(),
    title: localised,
    state: textOf(['planned', 'active', 'completed']),
    version: positive,
    plannedStart: z.string().nullable(),
    plannedEnd: z.string().nullable(),
    startedAt: timestamp.nullable(),
    completedAt: timestamp.nullable(),
    tasks: z.array(z.object({ key: z.string(), title: localised, done: z.boolean(), doneAt: timestamp.nullable(), doneBy: z.string().nullable() })),
    reopenings: z.array(z.object({ at: timestamp, reason: z.string() })),
    ownsEvents: z.array(z.string()).readonly().meta({ description: 'the application events allowed while this stage is active' }),
    holdsStates: z.array(z.string()).readonly(),
    allowedEvents: z.array(z.string()).meta({ description: 'the stage events this user may send now' }),
    overdue: z.boolean(),
  })
  .meta({ id: 'Stage' });

export const programmeWithStagesResponse = programmeResponse.safeExtend({ stages: z.array(stageSchema) }).meta({ id: 'ProgrammeWithStages' });

export const stageAppliedResponse = z.object({ no: positive, state: z.string(), version: positive }).meta({ id: 'StageApplied' });

const member = z.object({ id: positive, login: z.string(), name: z.string() });

export const decisionResponse = z
  .object({
    id: positive,
    programmeId: positive,
    decidedAt: timestamp,
    decidedBy: member.safeExtend({ role: z.string() }),
    membersPresent: z.array(member),
    ledgerHead: sha256Hex.meta({ description: 'the ledger head right after the decision’s events' }),
    ledgerEvents: count,
    recordHash: sha256Hex.meta({ description: 'the SHA-256 of the decided ranking as recorded' }),
  })
  .meta({ id: 'Decision' });

export const rankingResponse = z
  .object({
    programmeId: positive,
    decided: z.boolean(),
    decision: decisionResponse.nullable(),
    fundKopecks: kopecks,
    capKopecks: kopecks,
    alreadyAwardedKopecks: kopecks,
    availableKopecks: kopecks,
    allocatedKopecks: kopecks,
    fundLeftKopecks: kopecks,
    quorum: positive,
    partialAward: z.boolean(),
    criteria: commissionSettingsSchema.shape.criteria,
    rows: z.array(
      z.object({
        rank: positive,
        applicationId: positive,
        title: z.string(),
        municipality: z.string(),
        firstSubmittedAt: timestamp.nullable(),
        scores: z.object({
          criteria: z.record(z.string(), z.number()).meta({ description: 'points by criterion' }),
          criteriaCenti: z.record(z.string(), count).meta({ description: 'the same in hundredths of a point' }),
          total: z.number(),
          totalCenti: count,
          members: z.array(z.object({ memberId: positive, memberName: z.string(), significance: z.number(), at: timestamp })),
        }),
        requestedKopecks: kopecks,
        allocatedKopecks: kopecks,
        fundLeftKopecks: kopecks,
        outcome: z.enum(['award', 'partial', 'skip']),
        why: z.enum(['above-cap', 'over-remainder', 'nothing-requested']).nullable(),
      }),
    ),
  })
  .meta({ id: 'Ranking' });

export const criteriaResponse = commissionSettingsSchema
  .safeExtend({ programmeId: positive, fixed: z.boolean().meta({ description: 'true once the commission stage has started: the criteria no longer change' }) })
  .meta({ id: 'Criteria' });

const documentFileSchema = z.object({ name: z.string(), size: count, mediaType: z.enum(mediaTypes as [string, ...string[]]), sha256: sha256Hex, attachedAt: timestamp });

export const documentsResponse = z
  .object({
    id: positive,
    version: positive,
    allowedEvents: z.array(z.string()),
    documents: z.array(
      z.object({
        kind: z.enum(documentKinds),
        required: z.boolean(),
        fileTypes: z.array(z.enum(fileTypeKeys as [string, ...string[]])),
        maxBytes: positive.nullable(),
        file: documentFileSchema.nullable(),
        verdict: textOf(['missing', 'pending', 'accepted', 'remark']),
        remark: z.string().nullable(),
        reviewedAt: timestamp.nullable(),
      }),
    ),
  })
  .meta({ id: 'Documents' });

export const uploadResponse = appliedResponse.safeExtend({ document: attachDocumentSchema }).meta({ id: 'Uploaded' });

export const documentRequirementResponse = documentRequirementSchema.meta({ id: 'DocumentRequirement' });

/** The binary answer of a download: the stored file as it was uploaded. */
export const fileResponse = {
  description: 'the stored file, as an attachment',
  content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: z.string().meta({ format: 'binary' }) }])),
};

export const csvResponse = { description: 'the history as CSV for a spreadsheet (UTF-8 with a BOM)', content: { 'text/csv': { schema: z.string() } } };

/** The programme's open data (issue 13): the register as CSV, the analytical report as XLSX. */
export const registerCsvResponse = { description: 'the register as CSV for a spreadsheet (UTF-8 with a BOM, `;` between fields, formula-safe)', content: { 'text/csv': { schema: z.string() } } };
export const reportXlsxResponse = {
  description: 'the analytical report as an XLSX workbook',
  content: { 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: z.string().meta({ format: 'binary' }) } },
};

/** A 204: nothing in the body. */
export const noContent = z.undefined().meta({ description: 'done; nothing in the body' });

/**
 * The history downloads, which the audit pages serve under `/api/` too (src/http/routes/audit-pages.ts).
 * No `params` schema: the page's handler reads its id itself, and the document names it from the path.
 */
export const historyExportSchemas = {
  json: {
    tags: ['audit'],
    summary: 'The history as JSON, with the hash rule, so that a third party can re-check every hash with SHA-256 alone',
    response: { 200: json('the history, as a download', historyExportResponse), ...errors(401, ...pathErrors) },
  },
  csv: { tags: ['audit'], summary: 'The history as CSV for a spreadsheet', response: { 200: csvResponse, ...errors(401, ...pathErrors) } },
};

// ——— The register of applications (issue 13) ———

const registerMoney = {
  subsidyKopecks: kopecks,
  localBudgetKopecks: kopecks,
  residentsKopecks: kopecks,
  businessKopecks: kopecks,
  totalKopecks: kopecks,
};

export const registerResponse = z
  .object({
    programmeId: positive,
    rows: z.array(
      z
        .object({
          id: positive,
          number: z.string().meta({ description: 'the registration number, or the id for an application submitted before numbers existed' }),
          registrationNo: z.string().nullable(),
          title: z.string(),
          firstSubmittedAt: timestamp,
          municipalityId: positive,
          municipality: z.string(),
          settlement: z.string().nullable(),
          projectType: textOf(projectTypes).nullable(),
          state: applicationState,
          ...registerMoney,
          scoreCenti: count.nullable().meta({ description: 'the ranking’s total points in hundredths, for an application the ranking holds' }),
          awardedKopecks: kopecks.nullable(),
          decidedAt: timestamp.nullable().meta({ description: 'the commission’s decision on it, or the reviewer’s rejection' }),
          receivedKopecks: kopecks.nullable().meta({ description: 'after the award: paid in by every source, cancelled payments left out' }),
          spentKopecks: kopecks.nullable().meta({ description: 'after the award: spent, as the spending report says' }),
        })
        .meta({ id: 'RegisterRow' }),
    ),
    totals: z
      .object({ count, ...registerMoney, awardedKopecks: kopecks, receivedKopecks: kopecks, spentKopecks: kopecks })
      .meta({ id: 'RegisterTotals', description: 'the sums over the rows under the filters' }),
  })
  .meta({ id: 'Register' });

const waitingItem = z
  .object({ applicationId: positive, label: z.string().meta({ description: 'the registration number, or the id before numbers existed' }), title: z.string(), state: applicationState, waitingSince: timestamp })
  .meta({ id: 'DashboardWaitingItem' });

export const dashboardResponse = z
  .object({
    programmeId: positive,
    today: z.string().meta({ description: 'the programme’s date today (YYYY-MM-DD, its time zone): what lateness is measured against' }),
    stages: z.array(
      z.object({
        no: positive,
        key: z.string(),
        state: z.string(),
        plannedStart: z.string().nullable(),
        plannedEnd: z.string().nullable(),
        startedAt: timestamp.nullable(),
        completedAt: timestamp.nullable(),
        running: z.boolean(),
        overdue: z.boolean().meta({ description: 'not completed, and its planned end is behind the programme’s today' }),
      }),
    ),
    matrix: z
      .object({
        states: z.array(applicationState).meta({ description: 'the states at least one application is in, in the statechart’s order' }),
        rows: z.array(z.object({ municipalityId: positive, municipality: z.string(), counts: z.record(z.string(), count), total: count })),
        totals: z.record(z.string(), count),
        total: count,
      })
      .meta({ id: 'DashboardMatrix', description: 'every application of the programme (drafts too) by municipality and state' }),
    fund: z
      .object({
        fundKopecks: kopecks,
        requestedKopecks: kopecks.meta({ description: 'the subsidy asked for by the submitted applications, except those withdrawn or rejected' }),
        awardedKopecks: kopecks.meta({ description: 'the subsidies awarded by the commission' }),
        leftKopecks: kopecks.meta({ description: 'the fund less what was awarded' }),
        requestingCount: count,
        awardedCount: count,
      })
      .meta({ id: 'DashboardFund' }),
    waiting: z.array(
      z
        .object({
          state: applicationState,
          finished: count.meta({ description: 'the stays in the state that have ended: what the median and the 90th percentile are of' }),
          medianMs: count.nullable(),
          p90Ms: count.nullable().meta({ description: 'nearest rank: the ⌈0.9·n⌉-th shortest finished stay' }),
          now: count.meta({ description: 'applications in the state now (their running time is not in the percentiles)' }),
          longestSince: timestamp.nullable(),
        })
        .meta({ id: 'DashboardWaitingTime' }),
    ),
    reviewers: z.array(
      z
        .object({
          reviewerId: positive.nullable().meta({ description: 'none: the applications assigned to nobody yet' }),
          name: z.string(),
          assigned: count,
          underReview: count,
          oldest: waitingItem.nullable(),
        })
        .meta({ id: 'DashboardReviewerLoad' }),
    ),
    idleMunicipalities: z.array(z.object({ id: positive, name: z.string() })).meta({ description: 'municipalities without a single application of the programme, not even a draft' }),
  })
  .meta({ id: 'Dashboard' });
